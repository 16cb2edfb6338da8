package dev.gtramp.kernel.bpf;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Frame;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;

/**
 * What a tracing program's {@code ctx} points to while a trampoline runs it: the trampoline's stack
 * frame with the saved argument registers ({@code ctx[0..nr_args)}), the return slot
 * ({@code ctx[nr_args]}), {@code nr_args} itself and the function address the trampoline stored
 * below them, plus the run context ({@code struct bpf_tramp_run_ctx}) holding the cookie of the
 * program being run. The kernel's helpers for tracing programs are its methods.
 *
 * <p>Each {@link Frame} owns one, so nested traced calls on a CPU never share one and a call
 * allocates nothing. The trampoline fills it ({@link #begin}, {@link #setReturnValue}); the
 * programs read it. Valid only inside the program's run.
 */
public final class BpfTraceCtx {
    private final Frame frame;
    private int nrArgs;
    private long returnValue;
    /** The program running now and its cookie; saved and restored around each run by {@link BpfProg#run}. */
    BpfProg prog;
    long cookie;

    /** The context of {@code frame}; the kernel makes one per frame. */
    public BpfTraceCtx(Frame frame) {
        this.frame = frame;
    }

    /**
     * The trampoline's prologue: saves {@code nrArgs} argument registers and clears the return slot
     * (the fmod_ret programs start from 0).
     */
    public void begin(int nrArgs) {
        this.nrArgs = nrArgs;
        this.returnValue = 0;
    }

    /** Stores the return slot: an fmod_ret program's result, or the origin call's return value. */
    public void setReturnValue(long value) {
        this.returnValue = value;
    }

    /** The return slot as the trampoline left it. */
    public long returnValue() {
        return returnValue;
    }

    /** The CPU the traced call runs on (for per-CPU maps, and for calling other functions). */
    public Cpu cpu() {
        return frame.cpu();
    }

    public Kernel kernel() {
        return frame.cpu().kernel();
    }

    /**
     * Direct context access {@code ctx[n]}: argument {@code n} of the traced function. Allowed only
     * within the verifier's record of the running program ({@link BpfProg.Builder#readsArgs}).
     *
     * @throws KernelException EACCES for an access the verifier would have rejected
     */
    public long arg(int n) {
        BpfProg p = prog;
        if (p == null || n < 0 || n >= p.ctxArgs()) {
            throw new KernelException(Errno.EACCES, "invalid bpf_context access ctx[" + n + "] by "
                    + (p == null ? "no program" : p + ", which declared " + p.ctxArgs() + " arguments"));
        }
        return frame.arg(n);
    }

    /** {@link #arg} as a C {@code int}. */
    public int intArg(int n) {
        return (int) arg(n);
    }

    /**
     * Direct context access {@code ctx[nr_args]}: the return value (the origin's, or the last
     * fmod_ret program's) for a program whose record says it reads it.
     *
     * @throws KernelException EACCES for an access the verifier would have rejected
     */
    public long ret() {
        BpfProg p = prog;
        if (p == null || !p.readsReturn()) {
            throw new KernelException(Errno.EACCES, "invalid bpf_context access ctx[" + nrArgs + "] (return value) by "
                    + (p == null ? "no program" : p + ", which did not declare it"));
        }
        return returnValue;
    }

    /**
     * {@code bpf_get_func_arg(ctx, n, &value)}: stores argument {@code n} in {@code value[0]} and
     * returns 0, or returns {@code -EINVAL} if {@code n >= nr_args}.
     */
    public int getFuncArg(int n, long[] value) {
        if (Integer.compareUnsigned(n, nrArgs) >= 0) {
            return -Errno.EINVAL.code();
        }
        value[0] = frame.arg(n);
        return 0;
    }

    /** {@code bpf_get_func_arg_cnt(ctx)}: the traced function's {@code nr_args}. */
    public long getFuncArgCnt() {
        return nrArgs;
    }

    /**
     * {@code bpf_get_func_ret(ctx, &value)}: stores the return value in {@code value[0]} and returns 0.
     * Only fexit and fmod_ret programs have it.
     *
     * @throws KernelException EINVAL for an fentry program, which the verifier would have rejected
     */
    public int getFuncRet(long[] value) {
        BpfProg p = prog;
        if (p == null || p.kind() == BpfTrampKind.FENTRY) {
            throw new KernelException(Errno.EINVAL, "helper bpf_get_func_ret is not available to "
                    + (p == null ? "no program" : p.toString()));
        }
        value[0] = returnValue;
        return 0;
    }

    /** {@code bpf_get_func_ip(ctx)}: the traced function's address. */
    public long getFuncIp() {
        return frame.ip();
    }

    /** {@code bpf_get_attach_cookie(ctx)}: the cookie the running program was attached with for this function. */
    public long getAttachCookie() {
        return cookie;
    }

    @Override
    public String toString() {
        return "bpf ctx(" + frame + ", nr_args " + nrArgs + ")";
    }
}
