package dev.gtramp.bench;

import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.rcu.RcuFlavor;

/**
 * The kernels the benchmarks run on: booted from a small synthetic image, because nothing the
 * benchmarks measure (RCU, percpu_ref, one entry site) depends on how many functions the kernel has,
 * and a small image boots in milliseconds.
 */
final class BenchKernels {
    /** Functions in the synthetic image. */
    static final int FUNCTIONS = 16;
    /** The image's seed: the same seed gives the same image, so every run measures the same kernel. */
    static final long SEED = 1;

    private BenchKernels() {
    }

    /** Boots a kernel with {@code cpus} simulated CPUs (at least 1) and the given RCU flavor. */
    static Kernel boot(int cpus, RcuFlavor flavor) {
        KernelConfig config = KernelConfig.defaults().withCpus(Math.max(1, cpus)).withRcu(flavor);
        return Kernel.boot(KernelImage.synthetic(FUNCTIONS, SEED), config);
    }
}
