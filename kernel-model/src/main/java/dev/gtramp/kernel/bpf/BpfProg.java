package dev.gtramp.kernel.bpf;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.btf.FunctionPrototype;
import dev.gtramp.kernel.percpu.PerCpuLong;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loaded tracing program ({@code struct bpf_prog} of type {@code BPF_PROG_TYPE_TRACING}): its
 * expected attach type, its body, what the verifier recorded about its context accesses, and its
 * per-CPU recursion guard and statistics.
 *
 * <p><b>The verifier's record.</b> A Java body cannot be verified, so the program declares what the
 * BPF verifier would have derived from its instructions: how many leading context arguments it
 * reads directly ({@code ctx[0..n)}, {@code BPF_PROG(name, a, b, ...)}) and whether it reads the
 * return value from the context (an fexit or fmod_ret program's last {@code BPF_PROG} argument, at
 * {@code ctx[nr_args]}). Attaching checks the record against each target's prototype, as
 * {@code btf_ctx_access} and {@code btf_check_type_match} would; at run time
 * {@link BpfTraceCtx#arg(int)} refuses an access beyond the record, so the declaration cannot
 * understate. A multi program is verified against the untyped {@code bpf_multi_func} and may
 * declare no direct access at all, unless it names a first target ({@link Builder#attachBtfId}), as
 * the global trampoline's multi programs may (Menglong Dong's tracing multi-link): it is verified
 * against that function, and attaching checks every target against it
 * ({@code btf_check_func_part_match}).
 *
 * <p><b>Recursion guard</b> ({@code __bpf_prog_enter_recur}): {@code prog->active} is a per-CPU
 * counter incremented on entry; if it was not 0 the program is already running on this CPU (its
 * body called a function that is traced by the same program), so this run is skipped and counted in
 * {@code misses}. Exit decrements it whether or not the body ran.
 *
 * <p><b>Lifetime.</b> Loading gives one reference (the program's file descriptor, dropped by
 * {@link #close()}); each link takes another. The per-CPU counters are freed after an RCU grace
 * period once the last reference is gone ({@code bpf_prog_put} → {@code __bpf_prog_put_rcu}), since a
 * trampoline image may still be running the program in a read-side section.
 */
public final class BpfProg implements AutoCloseable {
    private final Kernel kernel;
    private final String name;
    private final BpfAttachType attachType;
    private final BpfProgBody body;
    private final int ctxArgs;
    private final boolean readsReturn;
    /** {@code attach_btf_id}: the function the verifier checked the program against, or null. */
    private final KernelFunction attachBtfFunction;
    /** {@code prog->active}: one writer per CPU (the CPU's thread), so plain per-CPU slots suffice. */
    private final PerCpuLong active;
    private final PerCpuLong runs;
    private final PerCpuLong misses;
    private final AtomicInteger refs = new AtomicInteger(1);
    /** The final counters, set when the per-CPU ones are freed; {@link #stats()} reads them from then on. */
    private volatile BpfProgStats finalStats;

    private BpfProg(Builder b) {
        this.kernel = b.kernel;
        this.name = b.name;
        this.attachType = b.attachType;
        this.body = b.body;
        this.ctxArgs = b.ctxArgs;
        this.readsReturn = b.readsReturn;
        this.attachBtfFunction = b.attachBtfFunction;
        this.active = kernel.perCpu().allocLong("prog " + name + " active");
        this.runs = kernel.perCpu().allocLong("prog " + name + " stats.cnt");
        this.misses = kernel.perCpu().allocLong("prog " + name + " stats.misses");
    }

    /** Starts describing a program to load ({@code BPF_PROG_LOAD}). */
    public static Builder builder(Kernel kernel, String name, BpfAttachType attachType) {
        return new Builder(kernel, name, attachType);
    }

    public Kernel kernel() {
        return kernel;
    }

    public String name() {
        return name;
    }

    public BpfAttachType attachType() {
        return attachType;
    }

    /** The trampoline list this program joins. */
    public BpfTrampKind kind() {
        return attachType.kind();
    }

    /** The verifier's record: how many leading context arguments the body reads directly. */
    public int ctxArgs() {
        return ctxArgs;
    }

    /** The verifier's record: whether the body reads the return value from the context. */
    public boolean readsReturn() {
        return readsReturn;
    }

    /**
     * The function the verifier checked a multi program's context accesses against
     * ({@code attach_btf_id}, its first target), or null for one verified against
     * {@code bpf_multi_func}.
     */
    public KernelFunction attachBtfFunction() {
        return attachBtfFunction;
    }

    /**
     * Why this program cannot attach to a function with {@code nrArgs} argument registers returning
     * {@code returnsVoid ? void : a value}, in the verifier's words, or {@code null} if it can.
     */
    public String prototypeMismatch(String function, int nrArgs, boolean returnsVoid) {
        return prototypeMismatch(ctxArgs, readsReturn, name, function, nrArgs, returnsVoid);
    }

    private static String prototypeMismatch(int ctxArgs, boolean readsReturn, String name, String function,
                                             int nrArgs, boolean returnsVoid) {
        if (ctxArgs > nrArgs) {
            return "func '" + function + "' doesn't have " + (ctxArgs - 1) + "-th argument (prog " + name
                    + " reads " + ctxArgs + " arguments, " + function + " takes " + nrArgs + ")";
        }
        if (readsReturn && ctxArgs != nrArgs) {
            return "prog " + name + " reads the return value at ctx[" + ctxArgs + "], but ctx[" + ctxArgs
                    + "] of " + function + " is " + (ctxArgs < nrArgs ? "argument " + ctxArgs : "out of range")
                    + " (" + function + " takes " + nrArgs + " arguments)";
        }
        if (readsReturn && returnsVoid) {
            return "prog " + name + " reads the return value of " + function + ", which returns void";
        }
        return null;
    }

    /**
     * Runs the program for one traced call, as the trampoline's {@code invoke_bpf_prog} does:
     * {@code __bpf_prog_enter_recur} (RCU read lock, recursion check, run context with the cookie),
     * the body, {@code __bpf_prog_exit_recur}. Returns the body's return value, or 0 when the
     * recursion guard skipped it (the trampoline then leaves the return slot as it was, which is 0
     * while fmod_ret programs still run).
     *
     * <p>The call path: no lock, no allocation.
     */
    public long run(BpfTraceCtx ctx, long cookie) {
        Cpu cpu = ctx.cpu();
        int id = cpu.id();
        cpu.rcu().lock();
        active.add(id, 1);
        try {
            if (active.get(id) != 1) {
                misses.add(id, 1);
                return 0;
            }
            runs.add(id, 1);
            BpfProg savedProg = ctx.prog;
            long savedCookie = ctx.cookie;
            ctx.prog = this;
            ctx.cookie = cookie;
            try {
                return body.run(ctx);
            } finally {
                ctx.prog = savedProg;
                ctx.cookie = savedCookie;
            }
        } finally {
            active.add(id, -1);
            cpu.rcu().unlock();
        }
    }

    /** Runs and misses summed over every CPU. */
    public BpfProgStats stats() {
        BpfProgStats f = finalStats;
        if (f != null) {
            return f;
        }
        return new BpfProgStats(runs.sum(), misses.sum());
    }

    /** {@code bpf_prog_inc}: a link takes a reference. Fails with ENOENT once the program is gone. */
    public void get() {
        int r;
        do {
            r = refs.get();
            if (r == 0) {
                throw new KernelException(Errno.ENOENT, "prog " + name + " was unloaded");
            }
        } while (!refs.compareAndSet(r, r + 1));
    }

    /** {@code bpf_prog_put}: drops a reference; the last one frees the program after a grace period. */
    public void put() {
        int r = refs.decrementAndGet();
        if (r < 0) {
            throw new KernelException(Errno.EINVAL, "prog " + name + " put more often than taken");
        }
        if (r == 0) {
            kernel.rcu().call(this::free);
        }
    }

    /**
     * The number of references: 1 for the loader until {@link #close()}, plus one per link, plus
     * one per structure a traced call reaches the program through and that outlives the link (a
     * global trampoline's {@code kfunc_md} node, until its grace periods end).
     */
    public int refCount() {
        return refs.get();
    }

    /**
     * Whether the program has been freed ({@code __bpf_prog_put_rcu} ran: its per-CPU counters are
     * gone). A traced call that can still reach a freed program writes into per-CPU memory that may
     * belong to another object by now.
     */
    public boolean isFreed() {
        return finalStats != null;
    }

    /** Drops the loader's reference (closing the program's file descriptor); links keep it alive. */
    @Override
    public void close() {
        try (Kernel.Operation op = kernel.beginOperation("close of " + this)) {
            put();
        }
    }

    private void free() {
        finalStats = new BpfProgStats(runs.sum(), misses.sum());
        active.free();
        runs.free();
        misses.free();
    }

    @Override
    public String toString() {
        return attachType.section() + " prog " + name;
    }

    /** The arguments of {@code BPF_PROG_LOAD} that the model uses. */
    public static final class Builder {
        private final Kernel kernel;
        private final String name;
        private final BpfAttachType attachType;
        private BpfProgBody body;
        private int ctxArgs;
        private boolean readsReturn;
        private String attachBtfId;
        private KernelFunction attachBtfFunction;

        private Builder(Kernel kernel, String name, BpfAttachType attachType) {
            this.kernel = Objects.requireNonNull(kernel, "kernel");
            this.name = Objects.requireNonNull(name, "name");
            this.attachType = Objects.requireNonNull(attachType, "attachType");
        }

        /** The body: what the program does each time it runs. */
        public Builder body(BpfProgBody body) {
            this.body = Objects.requireNonNull(body, "body");
            return this;
        }

        /** Declares that the body reads {@code ctx[0..n)} directly ({@code BPF_PROG} with n arguments). */
        public Builder readsArgs(int n) {
            if (n < 0 || n > FunctionPrototype.MAX_BPF_FUNC_ARGS) {
                throw new KernelException(Errno.EINVAL, "prog " + name + ": cannot read " + n
                        + " context arguments (MAX_BPF_FUNC_ARGS is "
                        + FunctionPrototype.MAX_BPF_FUNC_ARGS + ")");
            }
            this.ctxArgs = n;
            return this;
        }

        /** Declares that the body reads the return value from the context (fexit and fmod_ret only). */
        public Builder readsReturn() {
            this.readsReturn = true;
            return this;
        }

        /**
         * {@code attach_btf_id} of a multi program: the first target, against which the verifier
         * checks the declared context accesses, so that the program may read {@code ctx[n]} and the
         * return value directly (the global trampoline's tracing multi-link). Every target is then
         * checked against this one when attaching.
         */
        public Builder attachBtfId(String function) {
            this.attachBtfId = Objects.requireNonNull(function, "function");
            return this;
        }

        /**
         * {@code BPF_PROG_LOAD}: verifies the declaration and loads the program.
         *
         * @throws KernelException EINVAL naming the program when the verifier would reject it,
         *                         ESHUTDOWN when the kernel is closed
         */
        public BpfProg load() {
            try (Kernel.Operation op = kernel.beginOperation("BPF_PROG_LOAD of prog " + name)) {
                return verifyAndLoad();
            }
        }

        private BpfProg verifyAndLoad() {
            if (body == null) {
                throw new KernelException(Errno.EINVAL, "prog " + name + " has no body");
            }
            if (attachBtfId != null) {
                if (!attachType.isMulti()) {
                    throw new KernelException(Errno.EINVAL, "prog " + name + ": attachBtfId is for multi programs; "
                            + attachType.section() + " programs name their function when they attach");
                }
                attachBtfFunction = kernel.find(attachBtfId).orElseThrow(() -> new KernelException(Errno.ENOENT,
                        "prog " + name + ": attach_btf_id names " + attachBtfId + ", which is not in the image"));
                FunctionPrototype p = attachBtfFunction.prototype();
                String why = readsReturn && attachType.kind() == BpfTrampKind.FENTRY
                        ? "an fentry program has no return value to read"
                        : prototypeMismatch(ctxArgs, readsReturn, name, attachBtfId, p.argRegs(), p.returnSize() == 0);
                if (why != null) {
                    throw new KernelException(Errno.EINVAL, "prog " + name + ": invalid bpf_context access: " + why);
                }
                return new BpfProg(this);
            }
            if (attachType.isMulti() && ctxArgs > 0) {
                // The verifier checks multi programs against bpf_multi_func, which has no typed arguments.
                throw new KernelException(Errno.EINVAL, "prog " + name + ": func 'bpf_multi_func' doesn't have "
                        + (ctxArgs - 1) + "-th argument; " + attachType.section()
                        + " programs read arguments with bpf_get_func_arg");
            }
            if (readsReturn && attachType.isMulti()) {
                throw new KernelException(Errno.EINVAL, "prog " + name + ": invalid bpf_context access; "
                        + attachType.section() + " programs read the return value with bpf_get_func_ret");
            }
            if (readsReturn && attachType.kind() == BpfTrampKind.FENTRY) {
                throw new KernelException(Errno.EINVAL, "prog " + name
                        + ": invalid bpf_context access; an fentry program has no return value to read");
            }
            return new BpfProg(this);
        }
    }
}
