package org.projntk.internal;

/** Child-JVM entry point for NativeLibrariesTest: tries to load libprojntk.so and reports the outcome on stdout. */
public final class LoadProbe {
    private LoadProbe() {}

    public static void main(String[] args) {
        try {
            NativeLibraries.loadProjntk();
            System.out.println("LOADED " + NativeLibraries.projntkPath());
        } catch (NativeLibraries.NativeLibraryException e) {
            System.out.println("EXCEPTION " + e.getClass().getName() + " status=" + e.status());
            System.out.println("MESSAGE " + e.getMessage());
            System.exit(3);
        }
    }
}
