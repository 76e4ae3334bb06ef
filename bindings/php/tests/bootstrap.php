<?php

/**
 * PHPUnit bootstrap of the medseal binding tests (bash bindings/php/run-tests.sh runs them).
 *
 * The package comes from $MEDSEAL_PHP_AUTOLOAD (a Composer vendor/autoload.php) if set, else from
 * the package's own autoload.php. The library is $MEDSEAL_LIB (run-tests.sh sets it).
 */

declare(strict_types=1);

$autoload = getenv('MEDSEAL_PHP_AUTOLOAD');
require ($autoload !== false && $autoload !== '') ? $autoload : dirname(__DIR__) . '/autoload.php';
require __DIR__ . '/Fixtures.php';
require __DIR__ . '/Hub.php';
