package dev.gtramp.kernel;

import dev.gtramp.kernel.bpf.BpfTraceCtx;

/**
 * One call of a kernel function on a {@link Cpu}: the function, its argument registers, and the
 * way to its body. It plays the part of the saved argument registers that a trampoline reads with
 * {@code bpf_get_func_arg} and restores before the origin call.
 *
 * <p>Frames are owned by their CPU and reused: frame {@code d} serves every call at nesting depth
 * {@code d}, so a call allocates nothing. A frame is valid only while its call runs; keep no
 * reference to it afterwards.
 */
public final class Frame {
    private final Cpu cpu;
    private final long[] args;
    private final BpfTraceCtx bpfCtx = new BpfTraceCtx(this);
    private KernelFunction function;
    private int argCount;

    Frame(Cpu cpu, int maxArgs) {
        this.cpu = cpu;
        this.args = new long[maxArgs];
    }

    /** The function being called. */
    public KernelFunction function() {
        return function;
    }

    /** The called function's address, as {@code bpf_get_func_ip} reports it. */
    public long ip() {
        return function.ip();
    }

    /** The CPU the call runs on. */
    public Cpu cpu() {
        return cpu;
    }

    /** The context a trampoline gives the tracing programs it runs for this call. */
    public BpfTraceCtx bpfCtx() {
        return bpfCtx;
    }

    /** The number of argument words the caller passed. */
    public int argCount() {
        return argCount;
    }

    /**
     * Argument word {@code n} (the n-th argument register, then stack words).
     *
     * @throws KernelException EINVAL if {@code n} is not below {@link #argCount()}
     */
    public long arg(int n) {
        if (n < 0 || n >= argCount) {
            throw new KernelException(Errno.EINVAL, function.name() + " has " + argCount
                    + " argument words; argument " + n + " does not exist");
        }
        return args[n];
    }

    /** Argument {@code n} as a C {@code int} (the low 32 bits of its register, sign-extended). */
    public int intArg(int n) {
        return (int) arg(n);
    }

    /**
     * Runs the function body with this frame's arguments: the fall-through when the entry site is a
     * NOP, or a trampoline's origin call. Returns the body's return value.
     */
    public long callOrigin() {
        return function.site().body().run(this);
    }

    void enter(KernelFunction fn, int count) {
        this.function = fn;
        this.argCount = count;
    }

    void leave() {
        this.function = null;
        this.argCount = 0;
    }

    long[] argWords() {
        return args;
    }

    @Override
    public String toString() {
        KernelFunction f = function;
        return f == null ? "frame(idle)" : "frame(" + f.name() + ", " + argCount + " args, cpu " + cpu.id() + ")";
    }
}
