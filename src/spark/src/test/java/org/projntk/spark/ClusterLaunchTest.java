package org.projntk.spark;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projntk.data.DatasetSpec;

/** The driver-side preparation of a cluster launch: absolute dataset paths, the jars and the executor environment. */
class ClusterLaunchTest {
    @TempDir Path dir;

    static String abs(String p) {
        return Path.of(p).toAbsolutePath().normalize().toString();
    }

    @Test
    void datasetSpecsGetAbsolutePathsAndKeepTheirRowRange() {
        assertEquals("idx:" + abs("data/a-images") + "," + abs("data/a-labels") + "[0:64]",
                ClusterLaunch.absoluteDataset("idx:data/a-images,data/a-labels[0:64]"));
        assertEquals("npy:" + abs("x.npy") + "," + abs("m.npy") + "," + abs("y.npy"), ClusterLaunch.absoluteDataset("npy:x.npy,m.npy,y.npy"));
        assertEquals("cifar10:" + abs("cifar") + ":test[10:]", ClusterLaunch.absoluteDataset("cifar10:./cifar:test[10:]"));
        assertEquals("text:" + abs("t.tsv") + "," + abs("tok.json") + ",32", ClusterLaunch.absoluteDataset("text:t.tsv,tok.json,32"));
        assertEquals("idx:/abs/i,/abs/l", ClusterLaunch.absoluteDataset("idx:/abs/i,/abs/l"));
        assertEquals("fashion-mnist:train[0:5]", ClusterLaunch.absoluteDataset("fashion-mnist:train[0:5]"), "the root comes from the environment");
        // each parses back to the same kind, and every path in it is absolute
        DatasetSpec d = DatasetSpec.parse(ClusterLaunch.absoluteDataset("idx:i,l"));
        assertTrue(Path.of(d.first()).isAbsolute() && Path.of(d.second()).isAbsolute());
    }

    @Test
    void localModeIsLeftAlone() {
        SparkConf conf = new SparkConf().setMaster("local[2]");
        ClusterLaunch.configure(conf);
        assertFalse(conf.contains("spark.jars"));
        assertFalse(conf.contains("spark.executor.extraJavaOptions"));
    }

    @Test
    void aClusterLaunchFromClassFoldersSaysThatExecutorsNeedJars() {
        // the tests load this module from target/classes: a cluster cannot be given a folder
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ClusterLaunch.configure(new SparkConf().setMaster("spark://h:7077")));
        assertTrue(e.getMessage().contains("executors need jars") && e.getMessage().contains(ClusterLaunch.class.getName()), e.getMessage());
    }

    @Test
    void theCoreJarsOwnLibrariesShipWithoutJacksonOrSlf4j() throws IOException {
        Path lib = Files.createDirectories(dir.resolve("lib"));
        for (String name : List.of("tokenizers-0.38.0.jar", "jna-5.17.0.jar", "jackson-databind-2.21.8.jar", "slf4j-api-2.0.17.jar", "picocli-4.7.7.jar")) {
            Files.writeString(lib.resolve(name), "x");
        }
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.CLASS_PATH,
                "lib/tokenizers-0.38.0.jar lib/jackson-databind-2.21.8.jar lib/slf4j-api-2.0.17.jar lib/missing-1.0.jar lib/jna-5.17.0.jar lib/picocli-4.7.7.jar");
        Path core = dir.resolve("projntk-0.1.0.jar");
        try (OutputStream out = Files.newOutputStream(core); JarOutputStream jar = new JarOutputStream(out, m)) {
            jar.closeEntry();
        }
        assertEquals(List.of(lib.resolve("tokenizers-0.38.0.jar"), lib.resolve("jna-5.17.0.jar")), ClusterLaunch.coreLibraries(core));
    }
}
