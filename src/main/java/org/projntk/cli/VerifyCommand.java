package org.projntk.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import org.projntk.store.FeatureStore;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `projntk verify`: checks every file and checksum of a feature store. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Checks a feature store: every feature, out-to-loss and completion file against the manifest, and every "
                + "recorded CRC32C. Prints one line per problem to stderr and exits 1 if there is any.")
public final class VerifyCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--store", required = true, paramLabel = "DIR", description = "Feature store (featurize --out).")
    Path store;

    @Option(names = "--rehash", description = "First record the checksums the manifest lacks (stores written before checksums "
            + "were recorded); checksums already recorded are kept and checked.")
    boolean rehash;

    @Override
    public Integer call() {
        FeatureStore s = FeatureStore.open(store);
        PrintWriter out = spec.commandLine().getOut();
        if (rehash) out.println("verify: recorded checksums of " + s.rehash() + " file(s)");
        List<String> problems = s.verify();
        PrintWriter err = spec.commandLine().getErr();
        for (String p : problems) err.println(p);
        err.flush();
        if (!problems.isEmpty()) return 1;
        out.println("verify: " + s.dir() + " is sound (" + s.manifest().files().size() + " feature files, every checksum matches)");
        return 0;
    }
}
