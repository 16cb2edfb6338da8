package dev.gtramp.trampoline;

import dev.gtramp.ftrace.FtraceOps;
import dev.gtramp.ftrace.OpsCmd;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.kernel.mm.KernelObject;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code struct bpf_trampoline}: the programs attached to one kernel function and the image that
 * runs them.
 *
 * <p>Found by {@link #key} and by {@link #ip} in the tables of {@link Trampolines}; {@link #refcnt}
 * counts the links using it and is changed under {@code trampoline_mutex}. The program lists and
 * the current image are changed under {@link #mutex}, one of the 32 locks of the pool
 * ({@code trampoline_locks}, chosen by hashing the trampoline). Each list keeps the kernel's order:
 * {@code hlist_add_head}, so the newest program of a kind runs first.
 *
 * <p>Invariant (under {@link #mutex}): {@link #cur} is null exactly when no program is linked;
 * otherwise it runs exactly the linked programs and the function's call site calls it.
 */
final class BpfTrampoline extends KernelObject {
    /** {@code BPF_MAX_TRAMP_LINKS} on x86-64. */
    static final int BPF_MAX_TRAMP_LINKS = 38;

    final Trampolines owner;
    final long key;
    final KernelFunction function;
    final long ip;
    final int nrArgs;
    final ReentrantLock mutex;
    /** {@code tr->fops}: this trampoline's own ftrace_ops, used by {@link FtraceStrategy#CLASSIC} only. */
    final FtraceOps fops;
    /** Guarded by {@code trampoline_mutex}. */
    int refcnt;
    /** {@code tr->flags}: image flags plus SHARE_IPMODIFY. Guarded by {@link #mutex}. */
    int flags;
    private final List<List<TrampNode>> progs = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    /** {@code tr->cur_image}. Guarded by {@link #mutex}. */
    BpfTrampImage cur;
    /** {@code tr->multi_attach}: the image and flags before a multi attach or detach changed them. */
    BpfTrampImage multiOldImage;
    int multiOldFlags;

    BpfTrampoline(Trampolines owner, long key, KernelFunction function, ReentrantLock mutex, FtraceOps fops) {
        super("bpf_trampoline", 512);
        this.owner = owner;
        this.key = key;
        this.function = function;
        this.ip = function.ip();
        this.nrArgs = function.prototype().argRegs();
        this.mutex = mutex;
        this.fops = fops;
    }

    List<TrampNode> progs(BpfTrampKind kind) {
        return progs.get(kind.ordinal());
    }

    int progCount() {
        return progs.get(0).size() + progs.get(1).size() + progs.get(2).size();
    }

    /**
     * {@code bpf_trampoline_multi_attach_rollback} for this trampoline: the image and flags from
     * before the multi attach or detach come back, and the image built for it goes, retired through
     * grace periods if the batch was published (calls may have entered it), freed at once if not.
     * Under {@link #mutex}.
     */
    void multiRollback(boolean published) {
        BpfTrampImage made = cur;
        cur = multiOldImage;
        flags = multiOldFlags;
        multiOldImage = null;
        if (made != null && made != cur) {
            if (published) {
                owner.images().put(made);
            } else {
                owner.images().freeUnpublished(made);
            }
        }
    }

    /** Whether programs are linked and every one is a shim of the function's {@code kfunc_md}. Under {@link #mutex}. */
    boolean onlyShims() {
        if (progCount() == 0) {
            return false;
        }
        for (List<TrampNode> list : progs) {
            for (TrampNode n : list) {
                if (!n.shim) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The shim node carrying {@code prog}, or null. Under {@link #mutex}. */
    TrampNode findShim(BpfProg prog) {
        for (TrampNode n : progs(prog.kind())) {
            if (n.shim && n.prog == prog) {
                return n;
            }
        }
        return null;
    }

    /**
     * {@code __bpf_trampoline_link_prog}: adds the node and publishes a new image. On failure the
     * node is removed again and the trampoline is as before.
     *
     * @throws KernelException E2BIG beyond {@link #BPF_MAX_TRAMP_LINKS}; EBUSY if the program is
     *         already linked here (the kernel's "prog already linked"); whatever the update throws
     */
    void linkProg(TrampNode node, TrampolineOps ops) {
        mutex.lock();
        try {
            linkProgLocked(node, ops);
        } finally {
            mutex.unlock();
        }
    }

    void linkProgLocked(TrampNode node, TrampolineOps ops) {
        guard();
        if (progCount() >= BPF_MAX_TRAMP_LINKS) {
            throw new KernelException(Errno.E2BIG, function.name() + " already has " + BPF_MAX_TRAMP_LINKS
                    + " programs (BPF_MAX_TRAMP_LINKS); cannot attach " + node.prog);
        }
        List<TrampNode> list = progs(node.prog.kind());
        for (TrampNode n : list) {
            if (n.prog == node.prog) {
                throw new KernelException(Errno.EBUSY, node.prog + " is already attached to " + function.name()
                        + " (prog already linked)");
            }
        }
        list.add(0, node);
        try {
            update(ops, true);
        } catch (RuntimeException e) {
            list.remove(node);
            throw e;
        }
    }

    /** {@code bpf_trampoline_unlink_prog}: removes the node and publishes an image without it. */
    void unlinkProg(TrampNode node, TrampolineOps ops) {
        mutex.lock();
        try {
            unlinkProgLocked(node, ops);
        } finally {
            mutex.unlock();
        }
    }

    void unlinkProgLocked(TrampNode node, TrampolineOps ops) {
        unlinkProgLocked(node, ops, false);
    }

    /**
     * Unlinks {@code node}; with {@code dropOnlyShims}, if only shims of the function's
     * {@code kfunc_md} are left, unlinks them too, so the update hands the function back to the
     * global caller. Returns whether it did. On failure every list is as before.
     */
    boolean unlinkProgLocked(TrampNode node, TrampolineOps ops, boolean dropOnlyShims) {
        guard();
        List<TrampNode> list = progs(node.prog.kind());
        if (!list.contains(node)) {
            throw new KernelException(Errno.ENOENT, node.prog + " is not attached to " + function.name());
        }
        List<List<TrampNode>> saved = List.of(List.copyOf(progs.get(0)), List.copyOf(progs.get(1)),
                List.copyOf(progs.get(2)));
        list.remove(node);
        boolean dropShims = dropOnlyShims && onlyShims();
        if (dropShims) {
            progs.forEach(List::clear);
        }
        try {
            update(ops, true);
        } catch (RuntimeException e) {
            for (int k = 0; k < progs.size(); k++) {
                progs.get(k).clear();
                progs.get(k).addAll(saved.get(k));
            }
            throw e;
        }
        return dropShims;
    }

    /**
     * {@code bpf_trampoline_update}: builds the image for the current lists and publishes it through
     * {@code ops}, or unregisters the function when no program is left. The replaced image is
     * retired with {@code bpf_tramp_image_put} (or kept for the multi ops' batch).
     */
    void update(TrampolineOps ops, boolean lockDirectMutex) {
        int total = progCount();
        if (total == 0) {
            BpfTrampImage old = cur;
            ops.unregisterFentry(this, old);
            cur = null;
            flags &= BpfTrampImage.F_SHARE_IPMODIFY | BpfTrampImage.F_MIX;
            retire(old, ops);
            return;
        }
        if (owner.images().updatesInPlace() && cur != null && cur.callsOrigin() == needsOriginCall()) {
            // Broken on purpose: no new image, no swap; the running image is overwritten.
            cur.rewriteInPlace(progs(BpfTrampKind.FENTRY), progs(BpfTrampKind.MODIFY_RETURN), progs(BpfTrampKind.FEXIT));
            return;
        }
        while (true) {
            int f = flags & (BpfTrampImage.F_SHARE_IPMODIFY | BpfTrampImage.F_MIX);
            if (needsOriginCall()) {
                f |= BpfTrampImage.F_CALL_ORIG;
                if ((f & BpfTrampImage.F_SHARE_IPMODIFY) != 0) {
                    f |= BpfTrampImage.F_ORIG_STACK;
                }
            }
            BpfTrampImage im = owner.images().build(this, f);
            int savedFlags = flags;
            flags = f;
            try {
                if (cur == null) {
                    ops.registerFentry(this, im);
                } else {
                    ops.modifyFentry(this, cur, im, lockDirectMutex);
                }
            } catch (KernelException e) {
                owner.images().put(im);
                if (e.errno() == Errno.EAGAIN && (flags & BpfTrampImage.F_SHARE_IPMODIFY) != 0
                        && (savedFlags & BpfTrampImage.F_SHARE_IPMODIFY) == 0) {
                    // -EAGAIN from bpf_tramp_ftrace_ops_func: SHARE_IPMODIFY is now set; generate again.
                    continue;
                }
                flags = savedFlags;
                throw e;
            }
            BpfTrampImage old = cur;
            cur = im;
            retire(old, ops);
            return;
        }
    }

    private boolean needsOriginCall() {
        return !progs(BpfTrampKind.FEXIT).isEmpty() || !progs(BpfTrampKind.MODIFY_RETURN).isEmpty();
    }

    private void retire(BpfTrampImage old, TrampolineOps ops) {
        if (old == null) {
            return;
        }
        if (ops.putsOldImage()) {
            owner.images().put(old);
        }
    }

    /**
     * {@code bpf_tramp_ftrace_ops_func}: ftrace asks whether this trampoline can share its function
     * with an IPMODIFY user (livepatch). Returns 0 or a negative errno.
     */
    int opsFunc(OpsCmd cmd) {
        if (cmd != OpsCmd.ENABLE_SHARE_IPMODIFY_SELF) {
            // direct_mutex is held: take tr->mutex only if free, to keep the order tr->mutex => direct_mutex.
            if (!mutex.tryLock()) {
                return -Errno.EAGAIN.code();
            }
        }
        try {
            switch (cmd) {
                case ENABLE_SHARE_IPMODIFY_SELF -> {
                    flags |= BpfTrampImage.F_SHARE_IPMODIFY;
                    if ((flags & BpfTrampImage.F_CALL_ORIG) != 0 && (flags & BpfTrampImage.F_ORIG_STACK) == 0) {
                        return -Errno.EAGAIN.code();
                    }
                    return 0;
                }
                case ENABLE_SHARE_IPMODIFY_PEER -> {
                    flags |= BpfTrampImage.F_SHARE_IPMODIFY;
                    if ((flags & BpfTrampImage.F_CALL_ORIG) != 0 && (flags & BpfTrampImage.F_ORIG_STACK) == 0) {
                        return updateReturningErrno();
                    }
                    return 0;
                }
                case DISABLE_SHARE_IPMODIFY_PEER -> {
                    flags &= ~BpfTrampImage.F_SHARE_IPMODIFY;
                    if ((flags & BpfTrampImage.F_ORIG_STACK) != 0) {
                        return updateReturningErrno();
                    }
                    return 0;
                }
                default -> throw new IllegalStateException(cmd.toString());
            }
        } finally {
            if (cmd != OpsCmd.ENABLE_SHARE_IPMODIFY_SELF) {
                mutex.unlock();
            }
        }
    }

    private int updateReturningErrno() {
        try {
            update(owner.normalOps(), false);
            return 0;
        } catch (KernelException e) {
            return -e.errno().code();
        }
    }

    @Override
    public String toString() {
        return "bpf_trampoline(" + function.name() + ", " + progCount() + " progs)";
    }
}
