package dev.gtramp.stress.trampoline;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfProgBody;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.mm.KasanException;
import dev.gtramp.stress.TrialDomain;
import dev.gtramp.trampoline.FtraceStrategy;
import dev.gtramp.trampoline.Trampolines;

import java.util.Set;

/**
 * What the trampoline tests share: a kernel of its own per trial (two CPUs, 16 synthetic functions,
 * manual RCU callbacks, as the ftrace trials), its per-function trampolines on the single direct
 * ops, and the function {@code f} that CPU 0 calls. The writer binds no CPU, so no grace period
 * waits for it; its waits for CPU 0 end after {@link TrialDomain#PATIENCE_NANOS} at the latest.
 */
abstract class TrampolineTrial {
    static final KernelImage SMALL_IMAGE = KernelImage.synthetic(16, 1);
    /** A call that read a freed object (a KASAN report). */
    static final long FREED = -1_000_001;
    /** A call that failed another way. */
    static final long OTHER = -1_000_002;

    final Kernel kernel;
    final Trampolines trampolines;
    final KernelFunction f;
    private final long[] args;

    TrampolineTrial(Set<UnsafeVariant> unsafe) {
        kernel = Kernel.boot(SMALL_IMAGE, KernelConfig.defaults().withManualRcuCallbacks(true)
                .withUnsafeVariants(unsafe));
        trampolines = Trampolines.create(kernel, FtraceStrategy.SINGLE_OPS);
        f = kernel.functions().get(0);
        args = new long[f.argWords()];
    }

    final BpfProg prog(String name, BpfAttachType type, BpfProgBody body) {
        return BpfProg.builder(kernel, name, type).body(body).load();
    }

    /** One call of {@code f}: its result, or {@link #FREED} or {@link #OTHER}. */
    final long callOnce(Cpu cpu) {
        try {
            return cpu.callWith(f, args);
        } catch (KasanException e) {
            return FREED;
        } catch (RuntimeException e) {
            return OTHER;
        }
    }

    /** Runs every callback queued so far, in the order the image put chain needs. */
    final void settle() {
        for (int i = 0; i < 4; i++) {
            kernel.tasksRcu().barrier();
            kernel.rcu().barrier();
        }
    }

    /** The arbiter: runs the callbacks left, closes the kernel, and says whether KASAN reported anything. */
    final int finish() {
        settle();
        kernel.close();
        return kernel.allocator().violations() > 0 ? 1 : 0;
    }
}
