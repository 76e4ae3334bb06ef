<?php

/**
 * The opcache.preload script of the medseal package (see medseal.ini and docs/php.md).
 *
 * PHP's default ffi.enable=preload lets only preloaded code use FFI in a web server (PHP-FPM,
 * Apache mod_php); the command line is never restricted. This script loads every class of the
 * package when the server starts, so that their methods may call libmedseal in every request,
 * from any page. It declares classes only: it opens no library and runs nothing else.
 *
 * An application that already has an opcache.preload script requires this file from it.
 */

declare(strict_types=1);

require_once __DIR__ . '/autoload.php';

foreach (glob(__DIR__ . '/src/*.php') ?: [] as $file) {
    $class = 'Medseal\\' . basename($file, '.php');
    if (!class_exists($class) && !interface_exists($class)) {
        throw new \LogicException("medseal preload: $file does not declare $class");
    }
}
