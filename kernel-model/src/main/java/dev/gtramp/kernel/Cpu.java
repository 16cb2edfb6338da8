package dev.gtramp.kernel;

import dev.gtramp.kernel.percpu.ThisCpu;
import dev.gtramp.kernel.rcu.RcuContext;
import dev.gtramp.kernel.rcu.RcuReader;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A simulated CPU and the kernel work running on it: the model's {@code current} and
 * {@code smp_processor_id()} at once.
 *
 * <p>A thread does kernel work only on a CPU it has bound with {@link Kernel#bindCpu(int)}; the
 * binding is exclusive (one thread per CPU, as one task runs on a CPU at a time) and explicit, so
 * the call path finds its CPU in a field instead of a {@code ThreadLocal}. Per-CPU data indexed by
 * {@link #id()} therefore has a single writer. {@link #close()} unbinds.
 *
 * <p>Calls nest: a body may call other kernel functions on the same CPU. Each nesting level uses a
 * preallocated {@link Frame}, so a call allocates nothing; the depth is bounded like a kernel stack.
 *
 * <p><b>RCU.</b> A CPU's outermost kernel call is a read-side critical section of QSBR RCU and of
 * tasks RCU: the CPU's readers come online when it enters (a store per domain and one full fence,
 * the kernel's {@code rcu_user_exit}) and go offline when it returns (one release store). Between
 * calls the CPU holds no RCU-protected reference and runs no trampoline, an extended quiescent state
 * like user mode or idle, so a grace period never waits for a CPU whose thread does something else,
 * or blocks, between calls.
 */
public final class Cpu implements AutoCloseable, RcuContext, ThisCpu {
    /** Calls deeper than this fail like a kernel stack overflow would (a stack guard page). */
    public static final int MAX_CALL_DEPTH = 64;

    private static final VarHandle OWNER;
    private static final VarHandle FETCH_SEQ;

    static {
        try {
            OWNER = MethodHandles.lookup().findVarHandle(Cpu.class, "owner", Thread.class);
            FETCH_SEQ = MethodHandles.lookup().findVarHandle(Cpu.class, "fetchSeqPublished", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Kernel kernel;
    private final int id;
    private final Frame[] frames;
    /** Written only by the owning thread. */
    private int depth;
    /** Owner-only: inside {@link #schedule}, where the call is not a read-side critical section. */
    private boolean scheduledOut;
    private RcuReader rcu;
    private RcuReader tasksRcu;
    /** False only with {@link UnsafeVariant#QSBR_ONLINE_NO_FENCE}, for the stress suite. */
    private final boolean entryFence;
    /** Owner-only copy of {@link #fetchSeqPublished}, so the call path reads a plain field. */
    private long fetchSeq;
    /**
     * Odd while this CPU fetches an entry instruction. Written only by the owner; read by a CPU in
     * {@link Kernel#syncCores()}. Accessed through {@link #FETCH_SEQ}.
     */
    @SuppressWarnings("unused")
    private long fetchSeqPublished;
    /**
     * The interrupt raised on this CPU and not yet taken ({@link #raiseInterrupt}), or null.
     * Owner-only: the CPU raises it on itself and takes it, so a plain field is enough.
     */
    private Runnable pendingInterrupt;
    /** The bound thread, or null. Accessed through {@link #OWNER}. */
    @SuppressWarnings("unused")
    private volatile Thread owner;

    Cpu(Kernel kernel, int id, int maxArgWords) {
        this.kernel = kernel;
        this.id = id;
        this.entryFence = !kernel.config().unsafeVariants().contains(UnsafeVariant.QSBR_ONLINE_NO_FENCE);
        this.frames = new Frame[MAX_CALL_DEPTH];
        for (int i = 0; i < frames.length; i++) {
            frames[i] = new Frame(this, maxArgWords);
        }
    }

    void attachRcu(RcuReader rcu, RcuReader tasksRcu) {
        this.rcu = rcu;
        this.tasksRcu = tasksRcu;
    }

    /** This CPU's reader of the kernel's RCU: {@code rcu_read_lock()} is {@code cpu.rcu().lock()}. */
    @Override
    public RcuReader rcu() {
        return rcu;
    }

    /** This CPU's reader of tasks RCU, which protects trampoline code. */
    public RcuReader tasksRcu() {
        return tasksRcu;
    }

    /** The CPU number, {@code 0 <= id < kernel.cpuCount()}. */
    @Override
    public int id() {
        return id;
    }

    public Kernel kernel() {
        return kernel;
    }

    /** The current call nesting depth (0 when no kernel function is running on this CPU). */
    public int depth() {
        return depth;
    }

    /** The thread bound to this CPU, or {@code null}. */
    @Override
    public Thread owner() {
        return owner;
    }

    /** For RCU: a kernel call in progress is a read-side critical section. */
    @Override
    public boolean inKernel() {
        return depth > 0 && !scheduledOut;
    }

    /**
     * A voluntary context switch in the middle of a call, as a function body that sleeps on a mutex
     * or a wait queue makes one through {@code schedule()}. The thread stays bound to this CPU, but
     * while {@code wait} runs the call is a quiescent state for RCU and for tasks RCU, so grace
     * periods do not wait for it: whoever must keep something alive across such a call holds a
     * reference instead (a trampoline's {@code __bpf_tramp_enter} takes its image's
     * {@code percpu_ref} for exactly this). On return the CPU is back under both domains' watch,
     * with a full fence, before it loads anything.
     *
     * @throws KernelException EINVAL outside a call; EDEADLK inside an explicit
     *         {@code rcu_read_lock()} section ("sleeping function called from invalid context")
     */
    public void schedule(Runnable wait) {
        checkOwner();
        if (depth == 0) {
            throw new KernelException(Errno.EINVAL, "cpu " + id + ": schedule() outside a kernel call");
        }
        scheduledOut = true;
        try {
            kernel.rcu().runBlocking(() -> kernel.tasksRcu().runBlocking(wait));
        } finally {
            scheduledOut = false;
        }
    }

    /**
     * Raises an interrupt on this CPU (a timer or a self-IPI, as {@code irq_work_queue} raises one):
     * {@code handler} runs at the CPU's next {@link #interruptWindow}, on top of the code running
     * there. Only the owner raises one; a second replaces a pending first, and null withdraws it.
     */
    public void raiseInterrupt(Runnable handler) {
        checkOwner();
        pendingInterrupt = handler;
    }

    /**
     * An instruction boundary with interrupts enabled, where code that races with other CPUs marks
     * the point an interrupt can split (two loads of a lookup, say): a pending interrupt is taken
     * here. Its handler runs in interrupt context on top of the interrupted code, which keeps what it
     * holds: a read-side section stays open, so a grace period waits for the handler too, and an
     * interrupt is no quiescent state. Without one pending this is one load and a branch.
     */
    public void interruptWindow() {
        Runnable h = pendingInterrupt;
        if (h != null) {
            pendingInterrupt = null;
            h.run();
        }
    }

    @Override
    public String describe() {
        Thread t = owner;
        return "cpu " + id + " (" + (t == null ? "unbound" : "thread " + t.getName()) + ", depth " + depth + ")";
    }

    void bind(Thread thread) {
        if (!OWNER.compareAndSet(this, null, thread)) {
            Thread other = owner;
            throw new KernelException(Errno.EBUSY, "cpu " + id + " is already bound to thread "
                    + (other == null ? "?" : other.getName()));
        }
    }

    /** Unbinds the CPU from the calling thread. Fails if a call is still running on it. */
    @Override
    public void close() {
        checkOwner();
        if (depth != 0) {
            throw new KernelException(Errno.EBUSY, "cpu " + id + " is inside a call at depth " + depth);
        }
        OWNER.setVolatile(this, null);
    }

    public long call(KernelFunction fn) {
        Frame f = push(fn, 0);
        return run(fn, f);
    }

    public long call(KernelFunction fn, long a0) {
        Frame f = push(fn, 1);
        long[] w = f.argWords();
        w[0] = a0;
        return run(fn, f);
    }

    public long call(KernelFunction fn, long a0, long a1) {
        Frame f = push(fn, 2);
        long[] w = f.argWords();
        w[0] = a0;
        w[1] = a1;
        return run(fn, f);
    }

    public long call(KernelFunction fn, long a0, long a1, long a2) {
        Frame f = push(fn, 3);
        long[] w = f.argWords();
        w[0] = a0;
        w[1] = a1;
        w[2] = a2;
        return run(fn, f);
    }

    public long call(KernelFunction fn, long a0, long a1, long a2, long a3) {
        Frame f = push(fn, 4);
        long[] w = f.argWords();
        w[0] = a0;
        w[1] = a1;
        w[2] = a2;
        w[3] = a3;
        return run(fn, f);
    }

    public long call(KernelFunction fn, long a0, long a1, long a2, long a3, long a4) {
        Frame f = push(fn, 5);
        long[] w = f.argWords();
        w[0] = a0;
        w[1] = a1;
        w[2] = a2;
        w[3] = a3;
        w[4] = a4;
        return run(fn, f);
    }

    public long call(KernelFunction fn, long a0, long a1, long a2, long a3, long a4, long a5) {
        Frame f = push(fn, 6);
        long[] w = f.argWords();
        w[0] = a0;
        w[1] = a1;
        w[2] = a2;
        w[3] = a3;
        w[4] = a4;
        w[5] = a5;
        return run(fn, f);
    }

    /**
     * Calls {@code fn} with any number of argument words (functions with stack arguments). The
     * array is copied into the frame; reuse it freely.
     */
    public long callWith(KernelFunction fn, long[] args) {
        Frame f = push(fn, args.length);
        System.arraycopy(args, 0, f.argWords(), 0, args.length);
        return run(fn, f);
    }

    /** Calls the function named {@code name}; a convenience that looks the function up first. */
    public long call(String name, long... args) {
        return callWith(kernel.function(name), args);
    }

    private Frame push(KernelFunction fn, int argCount) {
        checkOwner();
        if (fn.kernel() != kernel) {
            throw new KernelException(Errno.EINVAL, fn.name() + " belongs to another kernel instance");
        }
        if (argCount != fn.argWords()) {
            throw new KernelException(Errno.EINVAL, fn.name() + " takes " + fn.argWords()
                    + " argument words, called with " + argCount + " (" + fn.prototype().declaration() + ")");
        }
        int d = depth;
        if (d == MAX_CALL_DEPTH) {
            throw new KernelException(Errno.E2BIG, "kernel stack overflow on cpu " + id + ": calling "
                    + fn.name() + " at depth " + d);
        }
        Frame f = frames[d];
        f.enter(fn, argCount);
        depth = d + 1;
        return f;
    }

    /**
     * Executes the entry instruction: the NOP runs the body, a CALL enters its target (which may run
     * the body), an int3 traps to the text patcher, which emulates the instruction being written.
     *
     * <p>The fetch of the instruction's two parts is bracketed by {@link #fetchSeq} (odd inside), so
     * {@link Kernel#syncCores()} can wait for an instruction in flight the way the IPI of
     * {@code text_poke_sync} does. The full fence after the odd store pairs with the patcher's
     * fence between its write and its scan: either this CPU reads the new byte, or the patcher sees
     * it fetching and waits (a Dekker pair; no weaker order prevents both missing each other).
     */
    private long run(KernelFunction fn, Frame f) {
        long s = fetchSeq + 1;
        if (depth == 1) {
            if (entryFence) {
                // rcu_user_exit: from here until the outermost return this CPU may hold references.
                // Both readers publish, then the fetch begins, then one fence orders all three
                // stores before any load.
                rcu.onlineNoFence();
                tasksRcu.onlineNoFence();
                FETCH_SEQ.setOpaque(this, s);
                VarHandle.fullFence();
            } else {
                FETCH_SEQ.setOpaque(this, s);
                VarHandle.fullFence();
                rcu.onlineNoFence();
                tasksRcu.onlineNoFence();
            }
        } else {
            FETCH_SEQ.setOpaque(this, s);
            VarHandle.fullFence();
        }
        try {
            EntrySite site = fn.site();
            int op = site.opcode();
            CallTarget target = site.operand();
            try {
                if (op == EntrySite.INT3) {
                    // The trap is part of the instruction: no sync IPI is taken before the handler
                    // returns, so the fetch ends only once it has resolved the new instruction.
                    target = kernel.int3(f);
                }
            } finally {
                // Release: the loads above complete before a syncing CPU sees the fetch end.
                FETCH_SEQ.setRelease(this, s + 1);
                fetchSeq = s + 1;
            }
            if (op == EntrySite.CALL) {
                if (target == EntrySite.NOP_TAIL) {
                    throw kernel.tornInstruction(f, "call followed by the NOP's tail bytes");
                }
                return target.enter(f);
            }
            if (op == EntrySite.NOP) {
                if (target != EntrySite.NOP_TAIL) {
                    throw kernel.tornInstruction(f, "the NOP's first byte followed by call operand " + target);
                }
                return site.body().run(f);
            }
            // int3_emulate_call, or the jump past the NOP.
            return target != null ? target.enter(f) : site.body().run(f);
        } finally {
            exit(f);
        }
    }

    /**
     * The end of a call. Out of line because javac copies a {@code finally} block into every exit
     * of {@link #run}; inline, the copies make {@code run} too big for the JIT to inline.
     */
    private void exit(Frame f) {
        f.leave();
        if (--depth == 0) {
            // rcu_user_enter: no RCU-protected reference and no trampoline left on this CPU.
            rcu.offline();
            tasksRcu.offline();
        }
    }

    /**
     * {@code do_sync_core} as seen from the CPU that sends the IPI: returns once this CPU is not in
     * the middle of fetching an entry instruction it began before the call. The caller has issued
     * a full fence after its last write (see {@link Kernel#syncCores()}).
     */
    void waitForInstructionBoundary() {
        long s = (long) FETCH_SEQ.getAcquire(this);
        if ((s & 1) == 0) {
            return;
        }
        while ((long) FETCH_SEQ.getAcquire(this) == s) {
            Thread.onSpinWait();
        }
    }

    private void checkOwner() {
        if (owner != Thread.currentThread()) {
            throw new KernelException(Errno.EPERM, "cpu " + id + " is not bound to thread "
                    + Thread.currentThread().getName() + "; bind it with Kernel.bindCpu(" + id + ")");
        }
    }

    @Override
    public String toString() {
        return "cpu" + id;
    }
}
