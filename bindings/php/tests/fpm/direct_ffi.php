<?php

// Test page of FpmTest: a page that is not preloaded may not use FFI itself (ffi.enable=preload).
header('Content-Type: text/plain');
try {
    FFI::cdef('int abs(int);');
    echo "FFI allowed\n";
} catch (Throwable $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
echo 'ffi.enable=', ini_get('ffi.enable'), "\n";
echo 'preloaded=', class_exists('Medseal\Signer', false) ? 'yes' : 'no', "\n";
echo 'header=', Medseal\Library::headerPath(), "\n";
echo 'library=', Medseal\Library::path(), "\n";
echo 'version=', Medseal\Medseal::libraryVersion(), "\n";
