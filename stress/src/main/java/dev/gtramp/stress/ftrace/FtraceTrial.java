package dev.gtramp.stress.ftrace;

import dev.gtramp.ftrace.Ftrace;
import dev.gtramp.ftrace.FtraceHash;
import dev.gtramp.ftrace.FtraceOps;
import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Frame;
import dev.gtramp.kernel.FunctionBody;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.mm.KasanException;
import dev.gtramp.stress.Residue;
import dev.gtramp.stress.TrialDomain;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.LongPredicate;

/**
 * What the ftrace tests share: a kernel of its own per trial, its ftrace, BPF's single static
 * direct ops ({@code direct_ops}), the function {@code f} that CPU 0 calls, and two direct
 * trampolines, A and B.
 *
 * <p>Every trial boots a kernel of two CPUs from one immutable image, built once per JVM
 * ({@link #SMALL_IMAGE}: 16 synthetic functions, all traceable), with manual RCU callbacks: no
 * callback thread per kernel, and a {@code call_rcu}/{@code call_rcu_tasks} callback runs only when
 * an actor or the arbiter runs the domain's pending callbacks. The state's constructor attaches the
 * trial's initial state and runs the callbacks its setup queued, on the thread that builds the
 * state, with no CPU bound. The arbiter runs whatever callbacks are left ({@code rcu_barrier},
 * {@code rcu_barrier_tasks}) and closes the kernel.
 *
 * <p>{@code f}'s body returns {@link #BODY}; trampoline A returns the origin's result plus 1
 * ({@link #TRAMP_A}), B plus 2 ({@link #TRAMP_B}), so one call's result names what the call
 * executed. A call that faults instead is classified by its exception: an oops for a torn
 * instruction ({@link #TORN}), a KASAN report ({@link #FREED}), anything else ({@link #OTHER}).
 *
 * <p><b>The caller and the writer meet.</b> CPU 0 calls {@code f} back to back from before the
 * writer's update until after it ({@link #callWhileUpdating}); the writer first waits until CPU 0
 * is about to call ({@link #awaitCaller}). Both waits end after {@link TrialDomain#PATIENCE_NANOS}
 * at the latest, so a trial cannot hang on them, and none of the writer's own waits can wait for
 * CPU 0 forever: a text-patching sync waits only for a CPU in the middle of fetching an entry
 * instruction (or resolving the int3 it trapped on), a grace period only for a CPU inside an
 * outermost call, and CPU 0 ends every call and is in an extended quiescent state between calls.
 * The writer binds no CPU, so no grace period waits for it.
 *
 * <p><b>Residue.</b> A body's constructor ends with {@link #setupDone}, the baseline of its
 * {@link Residue}. The arbiter ({@link #finish}) settles, takes the KASAN count, then detaches
 * everything: every direct entry of {@code direct_ops} ({@code update_ftrace_direct_del}) and
 * whatever else the body traces ({@link #untrace}); it settles again and closes the kernel. Then
 * no site may be patched and no direct entry left, and nothing else ({@link #left}).
 */
abstract class FtraceTrial {
    /** The image of the trials: 16 synthetic functions, all traceable. Immutable, shared by the trials. */
    static final KernelImage SMALL_IMAGE = KernelImage.synthetic(16, 1);
    /** What {@code f}'s body returns: the result of a call that ran no trampoline. */
    static final long BODY = 0;
    /** Trampoline A: the origin's result plus 1. */
    static final CallTarget TRAMP_A = new Tramp("tramp_a", 1);
    /** Trampoline B: the origin's result plus 2. */
    static final CallTarget TRAMP_B = new Tramp("tramp_b", 2);
    /** A call that faulted on a torn instruction (an oops: "torn instruction"). */
    static final int TORN = 4;
    /** A call that read a freed object (a KASAN report, thrown as {@link KasanException}). */
    static final int FREED = 6;
    /** A call that returned something no target returns, or failed another way. */
    static final int OTHER = 5;

    private static final FunctionBody BODY_FN = frame -> BODY;

    final Kernel kernel;
    final Ftrace ftrace;
    /** {@code direct_ops}: static (core kernel data), so (un)registering it waits for no grace period. */
    final FtraceOps ops = FtraceOps.staticDirect("direct_ops", null);
    /** The function CPU 0 calls. */
    final KernelFunction f;
    /** {@code f}'s argument words (zeros); only CPU 0 uses the array. */
    private final long[] args;
    /** Set by CPU 0 once it is bound and about to call {@code f}; the writer waits for it. */
    volatile boolean calling;
    /**
     * Set by the writer once its update (and, where it has them, its callbacks) has returned.
     * Volatile: a call that CPU 0 makes after it reads the flag happens after the whole update.
     */
    volatile boolean updated;
    /** The baseline, taken by {@link #setupDone}. */
    private Residue residue;
    /** Set by {@link #finish}: what the kernel left behind. */
    private List<String> left = List.of();

    FtraceTrial(KernelImage image, Set<UnsafeVariant> unsafe, int fIndex) {
        kernel = Kernel.boot(image, KernelConfig.defaults().withManualRcuCallbacks(true)
                .withUnsafeVariants(unsafe));
        ftrace = Ftrace.of(kernel);
        f = kernel.functions().get(fIndex);
        f.setBody(BODY_FN);
        args = new long[f.argWords()];
    }

    /** {@code update_ftrace_direct_add} of one function, on the constructing thread. */
    final void attach(KernelFunction fn, CallTarget tramp) {
        FtraceHash h = hashOf(fn, tramp);
        ftrace.updateFtraceDirectAdd(ops, h);
        ftrace.freeHash(h);
    }

    /** A one-entry {@code ip -> direct} hash for {@code update_ftrace_direct_*}; the caller frees it. */
    final FtraceHash hashOf(KernelFunction fn, CallTarget tramp) {
        FtraceHash h = ftrace.allocHash(2);
        h.add(fn.ip(), tramp);
        return h;
    }

    /** Runs the callbacks the setup queued, so that the trial starts with none pending. */
    final void settle() {
        kernel.rcu().barrier();
        kernel.tasksRcu().barrier();
    }

    /** One call of {@code f} on {@code cpu}: its result, or {@link #TORN}, {@link #FREED}, {@link #OTHER}. */
    final long callOnce(Cpu cpu) {
        try {
            return cpu.callWith(f, args);
        } catch (KasanException e) {
            return FREED;
        } catch (KernelException e) {
            String m = e.getMessage();
            return m != null && m.contains("torn instruction") ? TORN : OTHER;
        } catch (RuntimeException e) {
            return OTHER;
        }
    }

    /**
     * CPU 0, bound to the calling thread: signals {@link #calling}, then calls {@code f} back to
     * back, handing each result to {@code observer}, until the writer has {@linkplain #updated
     * updated} or the observer returns false; then waits for the update to be over. Returns false
     * if it was not over within {@link TrialDomain#PATIENCE_NANOS}.
     */
    final boolean callWhileUpdating(Cpu cpu, LongPredicate observer) {
        calling = true;
        long deadline = System.nanoTime() + TrialDomain.PATIENCE_NANOS;
        for (int calls = 1; !updated; calls++) {
            if (!observer.test(callOnce(cpu))) {
                break;
            }
            if ((calls & 1023) == 0 && System.nanoTime() - deadline > 0) {
                return false;
            }
        }
        while (!updated) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.onSpinWait();
        }
        return true;
    }

    /** The writer: waits until CPU 0 is calling, so that the update meets the calls. */
    final void awaitCaller() {
        long deadline = System.nanoTime() + TrialDomain.PATIENCE_NANOS;
        while (!calling && System.nanoTime() - deadline < 0) {
            Thread.onSpinWait();
        }
    }

    /** The end of the body's setup: the baseline its residue is measured against. */
    final void setupDone() {
        residue = Residue.of(kernel).ofFtrace(ftrace);
    }

    /** Unregisters what the body traces besides {@code direct_ops}'s entries, for the arbiter's teardown. */
    void untrace() {
    }

    /**
     * The arbiter: runs the callbacks left and reads KASAN's count (returned: the reports of the
     * trial); then detaches everything, runs the callbacks that queued, closes the kernel and
     * records the residue ({@link #left}). A KASAN report of the teardown is residue.
     */
    final long finish() {
        settle();
        long kasan = kernel.allocator().violations();
        List<String> teardown = new ArrayList<>();
        try {
            untrace();
            FtraceHash all = ftrace.allocHash(4);
            for (KernelFunction fn : kernel.functions()) {
                CallTarget t = ftrace.findRecDirect(fn.ip());
                if (t != null) {
                    all.add(fn.ip(), t);
                }
            }
            if (all.count() > 0) {
                ftrace.updateFtraceDirectDel(ops, all);
            }
            ftrace.freeHash(all);
        } catch (RuntimeException e) {
            teardown.add("detaching everything failed: " + e);
        }
        settle();
        kernel.close();
        left = new ArrayList<>(residue
                .require(kernel.allocator().violations() == kasan, "KASAN reports in the teardown")
                .require(ftrace.enabledRecords().isEmpty(), "patched sites left: " + ftrace.enabledRecords())
                .require(ftrace.directFunctionCount() == 0, ftrace.directFunctionCount() + " direct entries left")
                .find());
        left.addAll(0, teardown);
        return kasan;
    }

    /** After {@link #finish}: what the kernel left behind, one line each; empty for a clean trial. */
    final List<String> left() {
        return left;
    }

    /** After {@link #finish}: whether {@code outcome} is one of {@code acceptable} and the kernel left residue. */
    final boolean residue(Object outcome, String... acceptable) {
        return Residue.accepted(outcome, acceptable) && !left.isEmpty();
    }

    /** A direct trampoline that runs the origin and adds {@code delta} to its result. */
    private record Tramp(String name, long delta) implements CallTarget {
        @Override
        public long enter(Frame frame) {
            return frame.callOrigin() + delta;
        }

        @Override
        public String toString() {
            return name;
        }
    }
}
