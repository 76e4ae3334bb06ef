package vn.medseal;

import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collections;

/**
 * Finds and loads libmedseal, always by absolute path (a stale libmedseal elsewhere on the
 * system is never picked up):
 * <ol>
 * <li>the system property {@code medseal.library.path} (a file), if set;</li>
 * <li>else the library inside the jar, at JNA's resource path for this platform
 * ({@code linux-x86-64/libmedseal.so}; {@code win32-x86-64/medseal.dll},
 * {@code darwin-aarch64/libmedseal.dylib}, ... when a jar carries them), extracted into a new
 * private directory (mode 0700, the file 0500) under {@code medseal.tmpdir} (default
 * {@code java.io.tmpdir}), loaded, then deleted (on POSIX systems, at once).</li>
 * </ol>
 */
final class NativeLoader {
    /** The system property naming the library file to load instead of the bundled one. */
    static final String PATH_PROPERTY = "medseal.library.path";
    /** The system property naming the directory to extract the bundled library into. */
    static final String TMPDIR_PROPERTY = "medseal.tmpdir";

    private static volatile String loadedPath;
    /** The extracted copy's permissions as read back before loading, e.g. "dir=rwx------ file=r-x------" (tests). */
    static volatile String extractedPermissions;

    private NativeLoader() {}

    static String loadedPath() {
        return loadedPath;
    }

    /** The resource path of the library for this platform, e.g. {@code /linux-x86-64/libmedseal.so}. */
    static String resourcePath() {
        return "/" + Platform.RESOURCE_PREFIX + "/" + System.mapLibraryName("medseal");
    }

    static NativeLibrary load() {
        String override = System.getProperty(PATH_PROPERTY);
        if (override != null && !override.isEmpty()) {
            File file = new File(override).getAbsoluteFile();
            if (!file.isFile()) {
                throw new UnsatisfiedLinkError("medseal: -D" + PATH_PROPERTY + "=" + override + " is not a file");
            }
            try {
                NativeLibrary library = NativeLibrary.getInstance(file.getPath());
                loadedPath = file.getPath();
                return library;
            } catch (UnsatisfiedLinkError e) {
                throw linkError("cannot load " + file + " (from -D" + PATH_PROPERTY + "): " + e.getMessage(), e);
            }
        }
        String resource = resourcePath();
        InputStream in = NativeLoader.class.getResourceAsStream(resource);
        if (in == null) {
            throw new UnsatisfiedLinkError("medseal: this jar carries no native library for " + Platform.RESOURCE_PREFIX
                    + " (looked for " + resource + "); build libmedseal for this platform and set -D" + PATH_PROPERTY
                    + "=/path/to/" + System.mapLibraryName("medseal"));
        }
        Path dir = null;
        Path file = null;
        try {
            try {
                dir = privateDirectory();
                file = dir.resolve(System.mapLibraryName("medseal"));
                try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    byte[] chunk = new byte[64 * 1024];
                    int n;
                    while ((n = in.read(chunk)) > 0) {
                        out.write(chunk, 0, n);
                    }
                }
            } finally {
                in.close();
            }
            if (isPosix()) {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r-x------"));
                extractedPermissions = "dir=" + PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))
                        + " file=" + PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
            }
        } catch (IOException e) {
            deleteQuietly(file, dir);
            throw linkError("cannot extract " + resource + " into " + (dir != null ? dir : tmpBase()) + ": " + e
                    + "; set -D" + TMPDIR_PROPERTY + "=DIR (a writable directory) or -D" + PATH_PROPERTY
                    + "=/path/to/" + System.mapLibraryName("medseal"), e);
        }
        String absolute = file.toAbsolutePath().toString();
        try {
            NativeLibrary library = NativeLibrary.getInstance(absolute);
            loadedPath = absolute + " (extracted from " + resource + ")";
            return library;
        } catch (UnsatisfiedLinkError e) {
            throw linkError("cannot load the bundled library extracted to " + absolute + ": " + e.getMessage()
                    + ". If " + tmpBase() + " is mounted noexec, set -D" + PATH_PROPERTY + "=/path/to/"
                    + System.mapLibraryName("medseal") + " (a copy on an executable file system) or -D"
                    + TMPDIR_PROPERTY + "=DIR (an executable directory; JNA's own library follows -Djna.tmpdir)", e);
        } finally {
            // Once loaded (or not), the file is not needed on POSIX systems; Windows keeps it locked.
            if (isPosix()) {
                deleteQuietly(file, dir);
            } else {
                file.toFile().deleteOnExit();
                dir.toFile().deleteOnExit();
            }
        }
    }

    private static Path tmpBase() {
        String base = System.getProperty(TMPDIR_PROPERTY);
        if (base == null || base.isEmpty()) {
            base = System.getProperty("java.io.tmpdir");
        }
        return Paths.get(base);
    }

    private static boolean isPosix() {
        return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    }

    private static Path privateDirectory() throws IOException {
        Path base = tmpBase();
        Files.createDirectories(base);
        if (isPosix()) {
            return Files.createTempDirectory(base, "medseal-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        return Files.createTempDirectory(base, "medseal-");
    }

    private static void deleteQuietly(Path file, Path dir) {
        for (Path p : file != null ? new Path[] {file, dir} : Collections.singletonList(dir).toArray(new Path[0])) {
            if (p == null) {
                continue;
            }
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // best effort: a leftover private directory is harmless
            }
        }
    }

    private static UnsatisfiedLinkError linkError(String message, Throwable cause) {
        UnsatisfiedLinkError error = new UnsatisfiedLinkError("medseal: " + message);
        error.initCause(cause);
        return error;
    }
}
