package org.projntk.spark;

import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

import org.projntk.torch.Device;
import org.projntk.torch.Model;

/**
 * The models of one executor JVM, kept across tasks: a task borrows one for its whole run and gives it back, so a JVM
 * loads a model (and the native library, on the first load) once per concurrently running task slot
 * ({@code spark.executor.cores / spark.task.cpus}, one per GPU when a task takes a whole GPU), never once per task.
 * A model is used by one task at a time because a run changes its state (the parameter selection). A task that fails
 * closes its model instead of giving it back.
 */
public final class ModelPool {
    /** What identifies a loaded model: its spec (file or builtin:NAME), the seed of a built-in's weights, the device, the checkpoint id. */
    public record Key(String model, long modelSeed, Device device, String checkpoint) {}

    private static final Map<Key, Queue<Model>> IDLE = new ConcurrentHashMap<>();
    private static final AtomicLong LOADS = new AtomicLong();

    private ModelPool() {}

    /** A borrowed model; closing the lease gives it back. */
    public static final class Lease implements AutoCloseable {
        private final Key key;
        private Model model;
        private boolean broken;

        private Lease(Key key, Model model) {
            this.key = key;
            this.model = model;
        }

        public Model model() {
            if (model == null) throw new IllegalStateException("lease of " + key + " already returned");
            return model;
        }

        /** The run failed: the model is closed on return rather than reused. */
        public void discard() {
            broken = true;
        }

        @Override
        public void close() {
            if (model == null) return;
            if (broken) model.close();
            else IDLE.computeIfAbsent(key, k -> new ConcurrentLinkedQueue<>()).add(model);
            model = null;
        }
    }

    public static Lease borrow(Key key) {
        Queue<Model> idle = IDLE.computeIfAbsent(key, k -> new ConcurrentLinkedQueue<>());
        Model model = idle.poll();
        if (model == null) {
            model = key.model().startsWith("builtin:") ? Model.open(key.model(), key.modelSeed(), key.device())
                    : Model.load(ClusterLaunch.localModel(key.model()), key.model(), key.device());   // this node's copy, under the job's name
            LOADS.incrementAndGet();
        }
        return new Lease(key, model);
    }

    /** How many models this JVM has loaded so far. */
    public static long loads() {
        return LOADS.get();
    }
}
