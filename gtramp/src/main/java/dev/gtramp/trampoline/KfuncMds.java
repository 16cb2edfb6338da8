package dev.gtramp.trampoline;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfTrampKind;

import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code kernel/bpf/kfunc_md.c}: the kernel's {@link KfuncMd}s, {@code kfunc_md_mutex}, and the
 * lifetime of an md: {@code kfunc_md_create} (users + 1 when it exists), {@code kfunc_md_get},
 * {@code kfunc_md_put}, {@code kfunc_md_bpf_link} and {@code kfunc_md_bpf_unlink}.
 *
 * <p><b>Freeing.</b> The last put unlinks the md from the index, so no new caller finds it, then
 * follows the {@link KfuncMdFreeProtocol}: a caller that found the md must either have left or hold
 * its {@code percpu_ref} before the md is freed.
 * <ul>
 * <li>{@link KfuncMdFreeProtocol#RCU_THEN_KILL}: {@code call_rcu}; the callback runs after every
 *     caller that found the md in a read-side section has left it, each having taken the ref if it
 *     calls the origin; it {@code percpu_ref_kill}s; the release queues the free
 *     ({@code kfree_rcu}).</li>
 * <li>{@link KfuncMdFreeProtocol#KILL_THEN_TASKS_RCU}: {@code percpu_ref_kill} at once; the release
 *     waits an RCU (tasks-trace) and a tasks-RCU grace period, then frees.</li>
 * </ul>
 * The release runs on the thread of the last {@code percpu_ref_put}, which may be a traced call's
 * {@code kfunc_md_exit} in {@code bpf_global_caller}: it only queues one of the md's embedded
 * callbacks, without a lock or an allocation, as {@code __bpf_tramp_image_release} only queues
 * {@code call_rcu_tasks}. The free, with {@code percpu_ref_exit}, the index's bookkeeping and the
 * allocator, runs on the RCU callback thread.
 *
 * <p><b>Program nodes</b> are freed after an RCU grace period ({@code kfree_rcu}), or after the same
 * two grace periods with the v2 protocol. Each holds a reference to its program
 * ({@code bpf_prog_inc} in {@code kfunc_md_bpf_link}, as a {@code bpf_shim_tramp_link} holds one),
 * dropped by the node's free: a caller standing on a node runs its program, so the program must
 * last as long as the node's readers, which with the v2 protocol are tasks-RCU readers outside any
 * {@code rcu_read_lock}. The link's own reference, dropped at detach, is freed after one RCU grace
 * period ({@code bpf_prog_put}), too early for them.
 */
final class KfuncMds {
    private final Kernel kernel;
    private final KfuncMdFreeProtocol protocol;
    private final boolean freeAfterRcuOnly;
    private final boolean killBeforeGracePeriod;
    private final boolean usersUnlocked;
    /** {@code kfunc_md_mutex}. */
    private final ReentrantLock mutex = new ReentrantLock();
    private final KfuncMdIndex index;
    /** Mds unpublished and program nodes unlinked, not yet freed. */
    private final AtomicLong retiring = new AtomicLong();

    KfuncMds(Kernel kernel, KfuncMdFreeProtocol protocol, KfuncMdIndex index) {
        this.kernel = kernel;
        this.protocol = protocol;
        this.index = index;
        Set<UnsafeVariant> unsafe = kernel.config().unsafeVariants();
        this.freeAfterRcuOnly = unsafe.contains(UnsafeVariant.KFUNC_MD_FREE_AFTER_RCU_ONLY);
        this.killBeforeGracePeriod = unsafe.contains(UnsafeVariant.KFUNC_MD_KILL_BEFORE_GRACE_PERIOD);
        this.usersUnlocked = unsafe.contains(UnsafeVariant.KFUNC_MD_USERS_UNLOCKED);
    }

    Kernel kernel() {
        return kernel;
    }

    KfuncMdFreeProtocol protocol() {
        return protocol;
    }

    KfuncMdIndex index() {
        return index;
    }

    ReentrantLock mutex() {
        return mutex;
    }

    private void lock() {
        if (!usersUnlocked) {
            mutex.lock();
        }
    }

    private void unlock() {
        if (!usersUnlocked) {
            mutex.unlock();
        }
    }

    /**
     * {@code kfunc_md_create}: the md of {@code f} with one more user, created and published if the
     * function has none.
     *
     * @throws KernelException ENOMEM if allocating the md or growing the index fails (nothing changed)
     */
    KfuncMd create(KernelFunction f) {
        lock();
        try {
            KfuncMd md = index.lookup(f);
            if (md != null) {
                md.users++;
                return md;
            }
            md = kernel.allocator().alloc(new KfuncMd(this, f));
            md.users = 1;
            try {
                index.insert(md);
            } catch (RuntimeException e) {
                md.pcref.exit();
                kernel.allocator().free(md, "kfunc_md_create");
                throw e;
            }
            return md;
        } finally {
            unlock();
        }
    }

    /** {@code kfunc_md_get}: the md of {@code f}, or null. Writers only: under the mutex. */
    KfuncMd get(KernelFunction f) {
        lock();
        try {
            return index.lookup(f);
        } finally {
            unlock();
        }
    }

    /**
     * {@code kfunc_md_put}: one user fewer; the last unpublishes the md and frees it by the protocol.
     *
     * @throws KernelException EINVAL for a put without a user (the kernel's WARN), EBUSY if programs
     *         are still linked
     */
    void put(KfuncMd md) {
        lock();
        try {
            md.checkLive("kfunc_md_put");
            if (md.users <= 0) {
                throw new KernelException(Errno.EINVAL, "kfunc_md_put of " + md.function.name() + " without users");
            }
            if (--md.users > 0) {
                return;
            }
            if (md.progCount != 0) {
                md.users++;
                throw new KernelException(Errno.EBUSY, "kfunc_md_put of " + md.function.name() + " with "
                        + md.progCount + " programs still linked");
            }
            index.remove(md);
            retiring.incrementAndGet();
        } finally {
            unlock();
        }
        retire(md);
    }

    private void retire(KfuncMd md) {
        if (freeAfterRcuOnly) {
            // Broken on purpose: the grace period does not wait for a caller in the origin function.
            kernel.rcu().call(md.freeRcu);
            return;
        }
        if (killBeforeGracePeriod) {
            // Broken on purpose: the kill waits only for rcu_read_lock sections; the release frees at once.
            md.pcref.kill();
            return;
        }
        switch (protocol) {
            case RCU_THEN_KILL -> kernel.rcu().call(md.killRcu);
            case KILL_THEN_TASKS_RCU -> md.pcref.kill();
        }
    }

    /**
     * {@code kfunc_md_release_pcref}: the last reference is gone. Runs on the thread that dropped it,
     * a traced call's {@code kfunc_md_exit} included, so it only queues the md's embedded callback:
     * no lock, no allocation, no wait.
     */
    void released(KfuncMd md) {
        if (killBeforeGracePeriod) {
            // Broken on purpose (see retire): freed at once, wherever the last put happens.
            free(md);
            return;
        }
        switch (protocol) {
            case RCU_THEN_KILL -> kernel.rcu().call(md.freeRcu);
            case KILL_THEN_TASKS_RCU -> kernel.rcu().call(md.freeAfterTasksRcu);
        }
    }

    /** The md's free: {@code percpu_ref_exit}, the index's slot, {@code kfree}. On the RCU callback thread. */
    void free(KfuncMd md) {
        if (!freeAfterRcuOnly) {
            md.pcref.exit();
        }
        kernel.allocator().free(md, "kfunc_md_put");
        index.released(md);
        retiring.decrementAndGet();
    }

    /**
     * {@code kfunc_md_bpf_link}: appends {@code prog} with {@code cookie} to its kind's list.
     *
     * <p><b>The limit.</b> Dong's {@code kfunc_md_bpf_link} (v2's {@code kernel/bpf/kfunc_md.c} and
     * github menglongdong/bpf's, 597ad69c) checks only for the same program twice; its count,
     * {@code u8 bpf_prog_cnt}, would wrap to 0 at the 256th program, and {@code kfunc_md_bpf_ips}
     * would then drop the function from the global filter with programs still linked. The only
     * bound in that code is the trampoline's: a function a per-function trampoline serves (a
     * fallback, or a regular link's takeover, which copies every md program into the trampoline
     * as a shim) refuses beyond {@code BPF_MAX_TRAMP_LINKS} in {@code __bpf_trampoline_link_prog}.
     * The model applies that same bound to the md, all kinds counted, so the global designs accept
     * what the per-function designs accept (and a regular link meets the limit where it would
     * there): E2BIG beyond {@link BpfTrampoline#BPF_MAX_TRAMP_LINKS}, checked first as the
     * trampoline checks it.
     *
     * @throws KernelException E2BIG if the md already has {@code BPF_MAX_TRAMP_LINKS} programs;
     *         EEXIST if the program is already on the md; ENOMEM if the node cannot be allocated.
     *         The md is unchanged on failure.
     */
    void link(KfuncMd md, BpfProg prog, long cookie) {
        commitLink(md, prepareLink(md, prog, cookie));
    }

    /**
     * The half of {@link #link} that can fail: checks the limit and the duplicate, allocates the node
     * and takes its program reference; links nothing, so no caller can see the program yet. The node
     * is then either published by {@link #commitLink} or freed by {@link #abortLink}. A multi attach
     * prepares every function's node before the ftrace update that may fail, and publishes them only
     * after it, so that a failed attach's program never runs.
     *
     * @throws KernelException as {@link #link}; nothing is allocated on failure
     */
    KfuncMdProg prepareLink(KfuncMd md, BpfProg prog, long cookie) {
        lock();
        try {
            if (md.progCount >= BpfTrampoline.BPF_MAX_TRAMP_LINKS) {
                throw new KernelException(Errno.E2BIG, md.function.name() + " already has "
                        + BpfTrampoline.BPF_MAX_TRAMP_LINKS + " programs on its kfunc_md (BPF_MAX_TRAMP_LINKS);"
                        + " cannot attach " + prog);
            }
            if (md.find(prog.kind(), prog) != null) {
                throw new KernelException(Errno.EEXIST, prog + " is already attached to " + md.function.name());
            }
            KfuncMdProg node = kernel.allocator().alloc(new KfuncMdProg(prog, cookie));
            // bpf_prog_inc: the node's own reference, dropped by its free. The caller holds one, so
            // the program is live and this cannot fail.
            prog.get();
            return node;
        } finally {
            unlock();
        }
    }

    /**
     * The half of {@link #link} that cannot fail: appends a node from {@link #prepareLink} to its
     * kind's list, where callers see it. The caller holds {@code global_tr_lock}, so nothing was
     * linked to the md between the two halves and the checks still hold.
     */
    void commitLink(KfuncMd md, KfuncMdProg node) {
        lock();
        try {
            md.linkTail(node.prog.kind(), node);
        } finally {
            unlock();
        }
    }

    /**
     * Frees a node from {@link #prepareLink} that was never linked: no reader can have seen it, so
     * no grace period is needed.
     */
    void abortLink(KfuncMdProg node) {
        kernel.allocator().free(node, "kfunc_md_bpf_link");
        node.prog.put();
    }

    /**
     * {@code kfunc_md_bpf_unlink}: removes {@code prog}'s node; it is freed after the grace period,
     * and its program reference dropped then.
     *
     * @throws KernelException EINVAL if the program is not on the md
     */
    void unlink(KfuncMd md, BpfProg prog) {
        KfuncMdProg node;
        lock();
        try {
            node = md.find(prog.kind(), prog);
            if (node == null) {
                throw new KernelException(Errno.EINVAL, prog + " is not attached to " + md.function.name());
            }
            md.unlink(prog.kind(), node);
        } finally {
            unlock();
        }
        retiring.incrementAndGet();
        if (protocol == KfuncMdFreeProtocol.RCU_THEN_KILL) {
            kernel.rcu().call(() -> freeNode(node, "kfree_rcu"));
        } else {
            kernel.rcu().call(() -> kernel.tasksRcu().call(() -> freeNode(node, "kfunc_md_bpf_unlink")));
        }
    }

    /** Frees an unlinked node after its grace periods, then drops its program reference. */
    private void freeNode(KfuncMdProg node, String where) {
        BpfProg prog = node.prog;
        kernel.allocator().free(node, where);
        retiring.decrementAndGet();
        // bpf_prog_put: the program, if this was its last reference, goes one RCU grace period later.
        prog.put();
    }

    /** Mds published. */
    int size() {
        mutex.lock();
        try {
            return index.size();
        } finally {
            mutex.unlock();
        }
    }

    /** Mds unpublished and program nodes unlinked, not yet freed. */
    long retiring() {
        return retiring.get();
    }

    @Override
    public String toString() {
        return "kfunc_mds(" + protocol + ", " + size() + " published, " + retiring() + " retiring)";
    }
}
