package dev.gtramp.bench;

import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.rcu.RcuFlavor;

/**
 * The kernels the benchmarks run on: booted from a small synthetic image, because nothing the
 * benchmarks measure (RCU, percpu_ref, one entry site) depends on how many functions the kernel has,
 * and a small image boots in milliseconds. Benchmarks that need a real function with its real body
 * ({@code bpf_fentry_test1}) boot the Linux 6.18 image instead.
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
        return Kernel.boot(KernelImage.synthetic(FUNCTIONS, SEED), config(cpus, flavor));
    }

    /**
     * Boots a kernel from {@code KernelImage.linux618()} with {@code cpus} simulated CPUs (at least 1)
     * and the given RCU flavor: the BPF test functions have their real bodies. The first boot in a
     * JVM reads the embedded image; later ones reuse it.
     */
    static Kernel bootLinux618(int cpus, RcuFlavor flavor) {
        return Kernel.boot(KernelImage.linux618(), config(cpus, flavor));
    }

    private static KernelConfig config(int cpus, RcuFlavor flavor) {
        return KernelConfig.defaults().withCpus(Math.max(1, cpus)).withRcu(flavor);
    }
}
