<?php

/**
 * The package's classes without Composer (PSR-4: Medseal\X is src/X.php). Composer users get the
 * same from vendor/autoload.php; preload.php and the examples of the repository use this file.
 */

declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    if (strncmp($class, 'Medseal\\', 8) !== 0) {
        return;
    }
    $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, 8)) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
