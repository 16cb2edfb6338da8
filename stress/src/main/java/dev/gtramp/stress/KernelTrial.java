package dev.gtramp.stress;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.KernelLog;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfProgBody;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.mm.KasanException;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.ftrace.Ftrace;
import dev.gtramp.trampoline.BpfTracingLink;
import dev.gtramp.trampoline.Trampolines;
import dev.gtramp.trampoline.TrampolinesConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.Predicate;

/**
 * What the trampoline and global trampoline tests share: a kernel of its own per trial (two CPUs,
 * 16 synthetic functions, manual RCU callbacks, as the ftrace trials), its trampolines built as the
 * test asks, and the function {@code f} that CPU 0 calls. The writer binds no CPU, so no grace
 * period waits for it; its waits for CPU 0 end after {@link TrialDomain#PATIENCE_NANOS} at the
 * latest.
 *
 * <p>Three ways for CPU 0 and the writer to meet: CPU 0 calls {@code f} back to back while the writer
 * updates ({@link #callWhileUpdating}, {@link #updateWhileCalling}); one call sleeps in {@code f}'s
 * body while the writer updates ({@link #sleepingBody}, {@link #whileInBody}); or one call takes an
 * interrupt at the first {@code Cpu.interruptWindow} on its path and stays in the handler while the
 * writer updates ({@link #callInterrupted}, {@link #updateInWindow}).
 *
 * <p><b>Residue.</b> A body's constructor ends with {@link #setupDone}, the baseline of its
 * {@link Residue}: what the setup attached and loaded stays, and is in it. Every link the trial
 * opens and every program it loads after that (the writer's) is recorded by {@link #track}. The
 * arbiter ({@link #finish}) settles, takes the KASAN verdict, closes those links and drops those
 * programs (newest first, so a link goes before its program), and closes the kernel, which runs
 * every callback chain to its end; then nothing may be left: no type with more live objects than
 * at the baseline, no callback, no {@code kfunc_md} or image retiring, no more trampolines, mds,
 * patched sites or direct entries than the setup left, no unexpected warning ({@link #residue}).
 * Releasing the writer's part rather than everything keeps the arbiter cheap: tearing down a setup
 * of dozens of functions costs as much as building it.
 */
public abstract class KernelTrial {
    protected static final KernelImage SMALL_IMAGE = KernelImage.synthetic(16, 1);
    /** A call that read a freed object (a KASAN report). */
    protected static final long FREED = -1_000_001;
    /** A call that failed another way. */
    protected static final long OTHER = -1_000_002;

    protected final Kernel kernel;
    protected final Trampolines trampolines;
    protected final KernelFunction f;
    private final long[] args;
    /** Set by CPU 0 once it is bound and about to call {@code f} back to back. */
    private volatile boolean calling;
    /** Set by the writer once its updates are over. */
    private volatile boolean updated;
    /** The writers done with their updates, for {@link #updateWhileCalling(Runnable, int)}. */
    private final AtomicInteger writersDone = new AtomicInteger();
    /** Set by CPU 0's call once it is inside {@code f}'s body. */
    private volatile boolean inBody;
    /** Set by the writer to let the call sleeping in {@code f}'s body return. */
    private volatile boolean released;
    /** Set by the interrupt handler once CPU 0's call is inside the window. */
    private volatile boolean inWindow;
    /** Set by the writer once its update in the window is over (or it gave up); ends the handler's spin. */
    private volatile boolean windowUpdated;
    /** Set by CPU 0 once its interrupted call returned, so the writer does not wait for a window never taken. */
    private volatile boolean interruptedCallDone;
    /** The links the trial opened, closed by the arbiter; guarded by itself (setup and writer add). */
    private final List<AutoCloseable> links = new ArrayList<>();
    /** The baseline, taken by {@link #setupDone}. */
    private Residue residue;
    /** What the setup left attached: the arbiter requires no more than these at the end. */
    private int setupTrampolines;
    private int setupMds;
    private int setupSites;
    private int setupDirect;
    /** Set by {@link #finish}: what the kernel left behind. */
    private List<String> left = List.of();
    /** Log lines the trial provokes on purpose; the constructing thread's only. */
    private final List<Predicate<KernelLog.Entry>> expectedLog = new ArrayList<>();

    protected KernelTrial(Set<UnsafeVariant> unsafe, RcuFlavor rcu, TrampolinesConfig config) {
        this(SMALL_IMAGE, unsafe, rcu, config);
    }

    /** A trial on another image (a larger one, or one with functions the test needs); {@code f} is its first function. */
    protected KernelTrial(KernelImage image, Set<UnsafeVariant> unsafe, RcuFlavor rcu, TrampolinesConfig config) {
        kernel = Kernel.boot(image, KernelConfig.defaults().withRcu(rcu).withManualRcuCallbacks(true)
                .withUnsafeVariants(unsafe));
        trampolines = Trampolines.create(kernel, config);
        f = kernel.functions().get(0);
        args = new long[f.argWords()];
    }

    /** The end of the body's setup: the baseline its residue is measured against. */
    protected final void setupDone() {
        Ftrace ftrace = Ftrace.of(kernel);
        setupTrampolines = trampolines.trampolineCount();
        setupMds = trampolines.kfuncMdCount();
        setupSites = ftrace.enabledRecords().size();
        setupDirect = ftrace.directFunctionCount();
        residue = Residue.of(kernel).ofFtrace(ftrace);
    }

    /** Log lines the trial provokes on purpose, not residue (see {@link Residue#expectLog}). */
    protected final void expectLog(Predicate<KernelLog.Entry> line) {
        expectedLog.add(line);
    }

    /**
     * A link the trial opened, or a program it loaded: if that happens after {@link #setupDone}
     * (the writer's), the arbiter closes it (a link closed already is left alone: closing twice
     * does nothing; a program's loader reference is dropped once). The setup's stay: they are in
     * the baseline.
     */
    protected final <L extends AutoCloseable> L track(L link) {
        if (residue != null) {
            synchronized (links) {
                links.add(link);
            }
        }
        return link;
    }

    protected final BpfProg prog(String name, BpfAttachType type, BpfProgBody body) {
        return track(BpfProg.builder(kernel, name, type).body(body).load());
    }

    /** One call of {@code f}: its result, or {@link #FREED} or {@link #OTHER}. */
    protected final long callOnce(Cpu cpu) {
        try {
            return cpu.callWith(f, args);
        } catch (KasanException e) {
            return FREED;
        } catch (RuntimeException e) {
            return OTHER;
        }
    }

    /**
     * CPU 0's side of a race with the writer's updates: calls {@code once} (one call of {@code f},
     * judged: 0 for a good one) back to back until the updates are over or a call goes wrong. Returns
     * the first non-zero verdict, else 0, or {@code stuck} if the updates never ended.
     */
    protected final int callWhileUpdating(IntSupplier once, int stuck) {
        calling = true;
        int verdict = 0;
        while (!updated && verdict == 0) {
            verdict = once.getAsInt();
        }
        if (!await(() -> updated) && verdict == 0) {
            verdict = stuck;
        }
        return verdict;
    }

    /**
     * The writer's side of {@link #callWhileUpdating}: waits until CPU 0 calls, runs {@code updates},
     * then ends CPU 0's calls. Returns whether CPU 0 was calling (the updates run either way).
     */
    protected final boolean updateWhileCalling(Runnable updates) {
        return updateWhileCalling(updates, 1);
    }

    /**
     * {@link #updateWhileCalling(Runnable)} for one of {@code writers} writer threads racing each
     * other: CPU 0's calls end once the last of them is done.
     */
    protected final boolean updateWhileCalling(Runnable updates, int writers) {
        try {
            boolean met = await(() -> calling);
            updates.run();
            return met;
        } finally {
            if (writersDone.incrementAndGet() == writers) {
                updated = true;
            }
        }
    }

    /**
     * Runs {@code mine} on this thread and {@code other} on a thread started for it, at once, and
     * returns when both are done: two writers from one actor. The CI runs jcstress on two CPUs,
     * which schedules at most two actors, CPU 0 and one writer actor.
     */
    protected static void alongside(Runnable mine, Runnable other) {
        Thread second = new Thread(other, "second writer");
        second.start();
        try {
            mine.run();
        } finally {
            boolean interrupted = false;
            while (true) {
                try {
                    second.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Attaches {@code prog} to {@code f} with {@code cookie} and closes the link, alternately, {@code times} times. */
    protected final void toggleAttach(BpfProg prog, long cookie, int times) {
        BpfTracingLink link = null;
        for (int i = 0; i < times; i++) {
            if (link == null) {
                link = track(trampolines.attach(prog, f, cookie));
            } else {
                link.close();
                link = null;
            }
        }
    }

    /**
     * Gives {@code f} a body that sleeps ({@code Cpu.schedule}: a voluntary context switch, a
     * quiescent state for RCU and tasks RCU) until {@link #whileInBody} releases it, then returns
     * {@code value}.
     */
    protected final void sleepingBody(long value) {
        f.setBody(frame -> {
            inBody = true;
            frame.cpu().schedule(() -> await(() -> released));
            return value;
        });
    }

    /**
     * The writer's side of {@link #sleepingBody}: once CPU 0's call sleeps in {@code f}'s body, runs
     * {@code update}, then lets the call return. Returns false, having run nothing, if no call got
     * there.
     */
    protected final boolean whileInBody(Runnable update) {
        try {
            if (!await(() -> inBody)) {
                return false;
            }
            update.run();
            return true;
        } finally {
            released = true;
        }
    }

    /**
     * One call of {@code f} on CPU 0 that takes an interrupt at the first {@code Cpu.interruptWindow}
     * on its path: the handler spins until the writer's {@link #updateInWindow} is over, as a long
     * interrupt, or a preemption at the interrupt's return, would hold the CPU. What the call holds
     * there it keeps: a read-side section stays open, and the call stays inside {@code f} (a tasks-RCU
     * reader). Its result, or {@link #FREED} or {@link #OTHER}.
     */
    protected final long callInterrupted(Cpu cpu) {
        cpu.raiseInterrupt(() -> {
            inWindow = true;
            await(() -> windowUpdated);
        });
        try {
            return callOnce(cpu);
        } finally {
            // A call that never reached the window leaves no interrupt behind.
            cpu.raiseInterrupt(null);
            interruptedCallDone = true;
        }
    }

    /**
     * The writer's side of {@link #callInterrupted}: once CPU 0 is inside the window, runs
     * {@code update}, then lets the call go on. Returns false, having run nothing, if the call never
     * got there.
     */
    protected final boolean updateInWindow(Runnable update) {
        try {
            if (!await(() -> inWindow || interruptedCallDone) || !inWindow) {
                return false;
            }
            update.run();
            return true;
        } finally {
            windowUpdated = true;
        }
    }

    /** Runs every callback queued so far, in the order the image and md put chains need. */
    protected final void settle() {
        for (int i = 0; i < 4; i++) {
            kernel.tasksRcu().barrier();
            kernel.rcu().barrier();
        }
    }

    /** {@link TrialDomain#await}: spins until {@code flag} is true or the patience runs out. */
    protected static boolean await(BooleanSupplier flag) {
        return TrialDomain.await(flag);
    }

    /**
     * The arbiter: runs the callbacks left and says whether KASAN reported anything; then closes the
     * writer's links and programs, closes the kernel (running every callback left) and records the
     * residue ({@link #residue}). A KASAN report of the teardown is residue, not this verdict.
     */
    protected final int finish() {
        settle();
        long kasan = kernel.allocator().violations();
        List<String> teardown = new ArrayList<>();
        List<AutoCloseable> open;
        synchronized (links) {
            open = new ArrayList<>(links);
        }
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception e) {
                teardown.add("closing " + open.get(i) + " failed: " + e);
            }
        }
        kernel.close(); // runs every callback chain the teardown queued to its end
        if (residue == null) {
            throw new IllegalStateException(getClass().getSimpleName() + " did not call setupDone()");
        }
        Ftrace ftrace = Ftrace.of(kernel);
        for (var line : expectedLog) {
            residue.expectLog(line);
        }
        left = new ArrayList<>(residue
                .require(kernel.allocator().violations() == kasan, "KASAN reports in the teardown")
                .require(trampolines.kfuncMdsRetiring() == 0, trampolines.kfuncMdsRetiring() + " kfunc_mds retiring")
                .require(trampolines.imagesRetiring() == 0, trampolines.imagesRetiring() + " images retiring")
                .require(trampolines.trampolineCount() <= setupTrampolines,
                        trampolines.trampolineCount() + " trampolines, " + setupTrampolines + " after setup")
                .require(trampolines.kfuncMdCount() <= setupMds,
                        trampolines.kfuncMdCount() + " kfunc_mds, " + setupMds + " after setup")
                .require(ftrace.enabledRecords().size() <= setupSites,
                        "patched sites " + ftrace.enabledRecords() + ", " + setupSites + " after setup")
                .require(ftrace.directFunctionCount() <= setupDirect,
                        ftrace.directFunctionCount() + " direct entries, " + setupDirect + " after setup")
                .find());
        left.addAll(0, teardown);
        return kasan > 0 ? 1 : 0;
    }

    /** After {@link #finish}: what the kernel left behind, one line each; empty for a clean trial. */
    protected final List<String> left() {
        return left;
    }

    /**
     * After {@link #finish}: whether {@code outcome} is one of {@code acceptable} and the kernel left
     * residue; the caller then puts {@link Residue#VALUE} in its residue column.
     */
    protected final boolean residue(Object outcome, String... acceptable) {
        return Residue.accepted(outcome, acceptable) && !left.isEmpty();
    }
}
