package org.projntk.spark;

import org.apache.spark.sql.SparkSession;

/** The tests' Spark: local[2,2], two task threads and two attempts per task (plain local[N] never retries). */
final class LocalSpark {
    private LocalSpark() {}

    static SparkSession start() {
        return SparkSession.builder().master("local[2,2]").appName("projntk-test").config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
    }
}
