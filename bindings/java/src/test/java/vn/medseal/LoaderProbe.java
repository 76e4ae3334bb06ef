package vn.medseal;

/** Run in a child JVM by CoreTest: loads the library and prints where from (exit 3 on a load error). */
public final class LoaderProbe {
    private LoaderProbe() {}

    public static void main(String[] args) {
        try {
            Medseal.load();
        } catch (UnsatisfiedLinkError e) {
            System.out.println(e.getMessage());
            System.exit(3);
        }
        System.out.println("path=" + Medseal.libraryPath());
        System.out.println(NativeLoader.extractedPermissions);
        System.out.println("version=" + Medseal.libraryVersion());
    }
}
