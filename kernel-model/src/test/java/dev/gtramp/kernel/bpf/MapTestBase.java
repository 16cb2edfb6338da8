package dev.gtramp.kernel.bpf;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The map tests' kernel, booted fresh for each test with two CPUs, and their threads: programs on
 * each CPU, and a user-space thread.
 */
abstract class MapTestBase {
    /** A bound on a test's threads, so a bug hangs no build; not a timing assertion. */
    static final long TIMEOUT_SECONDS = 120;

    /** What a program does on its CPU. */
    interface Program {
        void run(Cpu cpu) throws Exception;
    }

    /** A small kernel with two CPUs. */
    Kernel kernel;

    @BeforeEach
    void boot() {
        kernel = Kernel.boot(KernelImage.synthetic(16, 1), KernelConfig.defaults().withCpus(2));
    }

    @AfterEach
    void shutdown() {
        kernel.close();
    }

    /**
     * Runs {@code program} on every CPU of the kernel, one thread bound to each, released
     * together, while {@code userSpace} (if not null) runs on a thread of its own; returns when all
     * have finished and rethrows the first failure.
     *
     * @return what {@code userSpace} returned, or null
     */
    <T> T onEachCpu(Program program, Callable<T> userSpace) throws Exception {
        int n = kernel.cpuCount();
        CyclicBarrier start = new CyclicBarrier(n);
        ExecutorService pool = Executors.newFixedThreadPool(n + 1);
        try {
            List<Future<?>> programs = new ArrayList<>();
            for (int id = 0; id < n; id++) {
                int cpuId = id;
                programs.add(pool.submit(() -> {
                    try (Cpu cpu = kernel.bindCpu(cpuId)) {
                        start.await();
                        program.run(cpu);
                    }
                    return null;
                }));
            }
            Future<T> user = userSpace == null ? null : pool.submit(userSpace);
            for (Future<?> f : programs) {
                join(f);
            }
            return user == null ? null : join(user);
        } finally {
            pool.shutdownNow();
        }
    }

    /** {@link #onEachCpu(Program, Callable)} without a user-space thread. */
    void onEachCpu(Program program) throws Exception {
        onEachCpu(program, null);
    }

    private static <T> T join(Future<T> f) throws Exception {
        try {
            return f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception ex) {
                throw ex;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }
}
