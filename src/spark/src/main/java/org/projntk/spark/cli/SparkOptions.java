package org.projntk.spark.cli;

import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.api.java.JavaSparkContext;
import org.projntk.spark.ClusterLaunch;

import picocli.CommandLine.Option;

/** Options every {@code projntk spark} command takes: where Spark runs, and how many partitions. */
public final class SparkOptions {
    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master (local[2], spark://host:7077, yarn, k8s://...); under spark-submit, its --master is used.")
    String master;

    @Option(names = "--app-name", defaultValue = "projntk", description = "Spark application name.")
    String appName;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "Extra Spark configuration (repeatable).")
    Map<String, String> conf = new LinkedHashMap<>();

    @Option(names = "--partitions", defaultValue = "0", paramLabel = "N",
            description = "Spark partitions (tasks) per stage; 0: four per task slot.")
    int partitions;

    @Option(names = "--verbose", description = "On failure, print the whole exception with Spark's task failures, not only the root cause.")
    boolean verbose;

    /**
     * The Spark context of a command: that of the JVM's default SparkSession if there is one (a notebook, a test; left
     * running), else a new session (stopped on close).
     */
    record Session(JavaSparkContext context, SparkSession owned) implements AutoCloseable {
        @Override
        public void close() {
            if (owned != null) owned.stop();
        }
    }

    Session start() {
        if (partitions < 0) throw new IllegalArgumentException("--partitions must be >= 0, got " + partitions);
        var running = SparkSession.getDefaultSession();
        if (running.isDefined()) return new Session(JavaSparkContext.fromSparkContext(running.get().sparkContext()), null);
        SparkConf sparkConf = new SparkConf().setAppName(appName);
        if (master != null) sparkConf.setMaster(master);
        for (var e : conf.entrySet()) sparkConf.set(e.getKey(), e.getValue());
        if (!sparkConf.contains("spark.master")) {
            throw new IllegalArgumentException("no Spark master: pass --master URL (e.g. local[2]) or run under spark-submit");
        }
        ClusterLaunch.configure(sparkConf);   // on a cluster: the jars and the executor environment
        SparkSession session = SparkSession.builder().config(sparkConf).getOrCreate();
        return new Session(JavaSparkContext.fromSparkContext(session.sparkContext()), session);
    }
}
