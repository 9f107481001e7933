import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;

import org.projntk.cli.Main;
import org.projntk.store.Checksums;

/**
 * What checksum verification adds to `projntk surrogate`, as a ratio measured side by side in one JVM: each round runs
 * the command once with the process's verified-file cache cleared (every feature file is read and checksummed before
 * use, as in a fresh process) and once with it filled (no verification), alternating which goes first.
 *
 * Usage (after `make build`; STORE from `projntk featurize`):
 *   java --enable-native-access=ALL-UNNAMED -Dprojntk.native=build/native/libprojntk.so \
 *     -cp "$(ls target/projntk-*.jar):target/lib/*" scripts/ChecksumOverhead.java STORE [ROUNDS]
 */
public class ChecksumOverhead {
    public static void main(String[] args) throws Exception {
        Path store = Path.of(args[0]);
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Field f = Checksums.class.getDeclaredField("VERIFIED");
        f.setAccessible(true);
        Set<?> verified = (Set<?>) f.get(null);
        run(store); // warm-up: JIT, native library, page cache
        double[] with = new double[rounds], without = new double[rounds], ratio = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            if (r % 2 == 0) {
                verified.clear();
                with[r] = run(store);
                without[r] = run(store);
            } else {
                without[r] = run(store);
                verified.clear();
                with[r] = run(store);
            }
            ratio[r] = with[r] / without[r];
            System.out.printf(Locale.ROOT, "round %d: verified %.3f s, cached %.3f s, ratio %.4f%n", r, with[r], without[r], ratio[r]);
        }
        System.out.printf(Locale.ROOT, "median: verified %.3f s, cached %.3f s, median ratio %.4f%n", median(with), median(without), median(ratio));
    }

    static double run(Path store) {
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        long t0 = System.nanoTime();
        int code = Main.run(new String[] {"surrogate", "--store", store.toString(), "--json"}, quiet, System.err);
        if (code != 0) throw new IllegalStateException("surrogate exited " + code);
        return (System.nanoTime() - t0) / 1e9;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
