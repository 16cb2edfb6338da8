package dev.gtramp.trampoline;

import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfTraceCtx;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.kernel.mm.KernelObject;
import dev.gtramp.kernel.percpu.PercpuRef;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code struct kfunc_md}: what {@code bpf_global_caller} needs to trace one kernel function: its
 * programs by kind, each with its cookie, in attach order; the argument count; whether any program
 * needs the origin call (an fexit or fmod_ret one); and the {@code percpu_ref} that a caller holds
 * across the origin call.
 *
 * <p>Found by {@link #ip} in the kernel's {@link KfuncMds} table. {@link #users} counts the links
 * using the md and {@link #progCount} its programs; both, the lists, {@link #tramp} and the origin
 * flag are written under {@code kfunc_md_mutex}. The caller reads the list heads and the origin flag
 * without a lock, inside whatever its {@link KfuncMdFreeProtocol} says keeps the md alive.
 *
 * <p>Invariant (under the mutex): {@code originCall == !fexit.isEmpty() || !modifyReturn.isEmpty()}
 * and {@code progCount} is the length of the three lists together, at most
 * {@code BPF_MAX_TRAMP_LINKS} ({@link KfuncMds#link}).
 */
final class KfuncMd extends KernelObject {
    private static final VarHandle FENTRY;
    private static final VarHandle FEXIT;
    private static final VarHandle MODIFY_RETURN;
    private static final VarHandle ORIGIN_CALL;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            FENTRY = l.findVarHandle(KfuncMd.class, "fentry", KfuncMdProg.class);
            FEXIT = l.findVarHandle(KfuncMd.class, "fexit", KfuncMdProg.class);
            MODIFY_RETURN = l.findVarHandle(KfuncMd.class, "modifyReturn", KfuncMdProg.class);
            ORIGIN_CALL = l.findVarHandle(KfuncMd.class, "originCall", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** {@code md->func}: the key. */
    final long ip;
    final KernelFunction function;
    /** {@code md->nr_args}: argument registers, as {@code bpf_get_func_arg_cnt} reports them. */
    final int nrArgs;
    /** {@code md->pcref}: held by callers between {@code kfunc_md_enter} and {@code kfunc_md_exit}. */
    final PercpuRef pcref;
    /**
     * {@code kfunc_md_release_rcu} on {@code md->rcu}: the {@code percpu_ref_kill} that
     * {@link KfuncMdFreeProtocol#RCU_THEN_KILL} queues with {@code call_rcu} when the md is
     * unpublished.
     */
    final Runnable killRcu;
    /**
     * The md's free on {@code md->rcu}, queued by the release once the last reference is gone. The
     * release runs wherever the last {@code percpu_ref_put} happens, on a traced call too, so the
     * callbacks are built with the md, as {@code struct rcu_head} is embedded in it: queuing one
     * allocates nothing. The stages run one after another, so one {@code rcu_head} serves them all.
     */
    final Runnable freeRcu;
    /** {@link KfuncMdFreeProtocol#KILL_THEN_TASKS_RCU}'s middle stage: {@code call_rcu_tasks} of {@link #freeRcu}. */
    final Runnable freeAfterTasksRcu;
    /** {@code md->users}: links using the md. Guarded by {@code kfunc_md_mutex}. */
    int users;
    /** {@code md->bpf_prog_cnt}. Guarded by {@code kfunc_md_mutex}. */
    int progCount;
    /**
     * {@code md->tramp}: the per-function trampoline serving the function instead of the global
     * caller (a regular link took it over, or the caller cannot serve it), holding one reference to
     * it. Guarded by the global trampoline lock.
     */
    BpfTrampoline tramp;
    /**
     * Why {@link #tramp} serves the function, when it does because {@code bpf_global_caller} cannot
     * (a fallback); null when a regular link took the function over, or without {@code tramp}. Kept
     * with the md, not the link that made the fallback, so every link that joins the trampoline
     * reports it. Guarded by the global trampoline lock.
     */
    String fallback;
    /** The md's slot in the padding index, or -1. Guarded by {@code kfunc_md_mutex}. */
    int slot = -1;
    /** List heads, accessed through their VarHandles only. */
    @SuppressWarnings("unused")
    private KfuncMdProg fentry;
    @SuppressWarnings("unused")
    private KfuncMdProg fexit;
    @SuppressWarnings("unused")
    private KfuncMdProg modifyReturn;
    /** {@code md->bpf_origin_call}. Accessed through {@link #ORIGIN_CALL} only. */
    @SuppressWarnings("unused")
    private boolean originCall;

    KfuncMd(KfuncMds owner, KernelFunction function) {
        super("kfunc_md", 96);
        this.ip = function.ip();
        this.function = function;
        this.nrArgs = function.prototype().argRegs();
        this.pcref = owner.kernel().percpuRefs().init("kfunc_md " + function.name(), ref -> owner.released(this));
        this.killRcu = pcref::kill;
        this.freeRcu = () -> owner.free(this);
        this.freeAfterTasksRcu = () -> owner.kernel().tasksRcu().call(freeRcu);
    }

    private static VarHandle head(BpfTrampKind kind) {
        return switch (kind) {
            case FENTRY -> FENTRY;
            case FEXIT -> FEXIT;
            case MODIFY_RETURN -> MODIFY_RETURN;
        };
    }

    /**
     * The first node of {@code kind}'s list ({@code rcu_dereference}). Acquire pairs with the
     * release of {@link #linkTail}: the node is seen as constructed.
     */
    KfuncMdProg first(BpfTrampKind kind) {
        return (KfuncMdProg) head(kind).getAcquire(this);
    }

    /**
     * {@code READ_ONCE(md->bpf_origin_call)}. Opaque is enough: the flag orders nothing; a caller
     * that sees a stale value runs the fexit list of a link being attached or detached, or not,
     * which either side of that update allows.
     */
    boolean originCall() {
        return (boolean) ORIGIN_CALL.getOpaque(this);
    }

    /**
     * The caller's walk of one list: each program with its cookie, nothing allocated. The md, whose
     * list head it reads first, and each node are guarded: reaching a freed one is the use after free
     * the free protocol must prevent. The v2 caller reads the fentry head outside
     * {@code rcu_read_lock}, where only tasks RCU keeps the md alive.
     */
    void runAll(BpfTrampKind kind, BpfTraceCtx ctx) {
        guard();
        for (KfuncMdProg p = first(kind); p != null; p = p.next()) {
            p.access();
            p.prog.run(ctx, p.cookie);
        }
    }

    /**
     * The fmod_ret programs: each result goes to the return slot; a non-zero one skips the rest and
     * the origin call. Returns whether the origin is skipped.
     */
    boolean runModifyReturn(BpfTraceCtx ctx) {
        for (KfuncMdProg p = first(BpfTrampKind.MODIFY_RETURN); p != null; p = p.next()) {
            p.access();
            long r = p.prog.run(ctx, p.cookie);
            ctx.setReturnValue(r);
            if (r != 0) {
                return true;
            }
        }
        return false;
    }

    /** The node of {@code prog} in {@code kind}'s list, or null. Under {@code kfunc_md_mutex}. */
    KfuncMdProg find(BpfTrampKind kind, BpfProg prog) {
        for (KfuncMdProg p = first(kind); p != null; p = p.next()) {
            if (p.prog == prog) {
                return p;
            }
        }
        return null;
    }

    /** {@code hlist_add_tail_rcu}: appends a node built by the caller. Under {@code kfunc_md_mutex}. */
    void linkTail(BpfTrampKind kind, KfuncMdProg node) {
        KfuncMdProg p = first(kind);
        if (p == null) {
            head(kind).setRelease(this, node);
        } else {
            while (p.next() != null) {
                p = p.next();
            }
            p.setNext(node);
        }
        progCount++;
        updateOriginCall();
    }

    /**
     * {@code hlist_del_rcu}: unlinks a node, which keeps its own next pointer for callers standing
     * on it. Release, so the removal is ordered after everything the writer did before it. Under
     * {@code kfunc_md_mutex}.
     */
    void unlink(BpfTrampKind kind, KfuncMdProg node) {
        KfuncMdProg p = first(kind);
        if (p == node) {
            head(kind).setRelease(this, node.next());
        } else {
            while (p.next() != node) {
                p = p.next();
            }
            p.setNext(node.next());
        }
        progCount--;
        updateOriginCall();
    }

    private void updateOriginCall() {
        ORIGIN_CALL.setOpaque(this, first(BpfTrampKind.FEXIT) != null || first(BpfTrampKind.MODIFY_RETURN) != null);
    }

    /** The programs of {@code kind} in run order, with cookies. Under {@code kfunc_md_mutex}. */
    List<KfuncMdProg> progs(BpfTrampKind kind) {
        List<KfuncMdProg> out = new ArrayList<>();
        for (KfuncMdProg p = first(kind); p != null; p = p.next()) {
            out.add(p);
        }
        return out;
    }

    /** An access by the caller: a KASAN report if the object was freed under it. */
    void access() {
        guard();
    }

    @Override
    public String toString() {
        return "kfunc_md(" + function.name() + ", users " + users + ", " + progCount + " progs)";
    }
}
