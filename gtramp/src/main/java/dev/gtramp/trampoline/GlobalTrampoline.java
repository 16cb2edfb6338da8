package dev.gtramp.trampoline;

import dev.gtramp.ftrace.DynFtrace;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.kernel.btf.FunctionPrototype;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The global trampoline ({@code bpf_gtrampoline_link_prog} and {@code bpf_gtrampoline_unlink_prog},
 * with the mixing of github menglongdong/bpf): tracing multi links served by one
 * {@link GlobalCaller}, and how they share functions with per-function trampolines.
 *
 * <p><b>Attach.</b> Under {@code global_tr_lock} and all trampoline locks, for each function:
 * {@code kfunc_md_create} and the fallible half of {@code kfunc_md_bpf_link} (the limit, the
 * duplicate, the node's allocation: {@link KfuncMds#prepareLink}); then the function is served one
 * of three ways.
 * <ul>
 * <li>By the global caller: a function whose md just got its first program is recorded for the
 *     global ops.</li>
 * <li>By its trampoline, because a regular link already has one there: the program joins it as a
 *     shim ({@code bpf_gtrampoline_link_shim}) and the trampoline is marked
 *     {@link BpfTrampImage#F_MIX}, so that it hands the function to the global caller when its last
 *     regular link goes.</li>
 * <li>By its trampoline, because the global caller cannot serve it (stack arguments, more than six
 *     argument registers, an IPMODIFY user such as livepatch, no padding for the md index): a
 *     fallback, reported by every link the trampoline serves there (the reason is kept on the md).</li>
 * </ul>
 * Then one {@code update_ftrace_direct_add} for every new entry (global caller and fallback
 * trampolines alike: all are entries of the one {@code direct_ops}) and one
 * {@code update_ftrace_direct_mod} for changed trampolines. Only once those succeeded are the
 * nodes linked into the mds ({@link KfuncMds#commitLink}, which cannot fail): an md already served
 * by the global caller is live, and a program linked into it before a publish that then fails would
 * run in calls of that function although its attach failed. A failure anywhere (an md already
 * holding {@code BPF_MAX_TRAMP_LINKS} programs among them, an ftrace update) undoes every function:
 * nodes freed unpublished, shims removed with the old images restored, trampolines and mds put.
 *
 * <p><b>Detach</b> ({@link GlobalDetach}) does everything that can fail first (the shims' images,
 * the ftrace updates) and undoes it on failure, leaving the link attached; only then does it unlink
 * the program from the mds and put what the link held.
 *
 * <p><b>A regular link</b> on a function the global caller serves takes it over: every program of
 * the md joins the trampoline as a shim, and the function's entry moves from the global caller to
 * the trampoline's image with one {@code update_ftrace_direct_mod}; when the last regular link
 * goes, the shims go too and one {@code update_ftrace_direct_mod} moves it back. The md keeps every
 * program throughout, so either target runs each program once.
 *
 * <p>Lock order: {@code global_tr_lock}, trampoline locks, {@code kfunc_md_mutex},
 * {@code direct_mutex}.
 */
final class GlobalTrampoline {
    private final Trampolines t;
    private final KfuncMds mds;
    private final GlobalCaller caller;
    /** {@code global_tr_lock}: held across every link and unlink, multi or regular. */
    private final ReentrantLock lock = new ReentrantLock();
    /** {@link UnsafeVariant#GTRAMP_LINK_BEFORE_PUBLISH}: link the program into live mds first. */
    private final boolean linkBeforePublish;
    /** {@link UnsafeVariant#GTRAMP_DETACH_LAST_CHECK_UNLOCKED}: a detach reads its md's last program before the lock. */
    private final boolean lastCheckUnlocked;
    /** {@link UnsafeVariant#GTRAMP_REGULAR_MD_CHECK_UNLOCKED}: a regular attach checks the md before the locks. */
    private final boolean regularCheckUnlocked;

    GlobalTrampoline(Trampolines t, KfuncMds mds) {
        this.t = t;
        this.mds = mds;
        this.caller = new GlobalCaller(mds.index(), mds.protocol());
        this.linkBeforePublish = t.kernel().config().unsafeVariants().contains(UnsafeVariant.GTRAMP_LINK_BEFORE_PUBLISH);
        this.lastCheckUnlocked = t.kernel().config().unsafeVariants().contains(UnsafeVariant.GTRAMP_DETACH_LAST_CHECK_UNLOCKED);
        this.regularCheckUnlocked = t.kernel().config().unsafeVariants().contains(UnsafeVariant.GTRAMP_REGULAR_MD_CHECK_UNLOCKED);
    }

    GlobalCaller caller() {
        return caller;
    }

    KfuncMds mds() {
        return mds;
    }

    /**
     * Why the global caller cannot serve {@code f}, or null. Stack arguments and more than
     * {@code MAX_BPF_FUNC_REG_ARGS} registers: the caller saves six argument registers. IPMODIFY: the
     * function's code is replaced by a livepatch-like user, which needs the trampoline's
     * {@code BPF_TRAMP_F_ORIG_STACK} origin call.
     */
    String fallbackReason(KernelFunction f) {
        FunctionPrototype p = f.prototype();
        if (p.argRegs() > FunctionPrototype.MAX_BPF_FUNC_REG_ARGS) {
            return p.argRegs() + " argument registers; bpf_global_caller saves "
                    + FunctionPrototype.MAX_BPF_FUNC_REG_ARGS + " and no stack arguments";
        }
        if (t.ftrace().record(f.ip()).map(r -> r.has(DynFtrace.IPMODIFY)).orElse(false)) {
            return "an IPMODIFY ftrace user (livepatch) replaces its code";
        }
        return mds.index().cannotIndex(f);
    }

    // ------------------------------------------------------------------ multi links

    void attach(BpfTracingMultiLink link) {
        int n = link.entries.length;
        lock.lock();
        try {
            DirectBatch batch = new DirectBatch(t, n);
            boolean attached = false;
            try {
                MultiAttach.lockAll(t);
                try {
                    int i = 0;
                    try {
                        for (; i < n; i++) {
                            linkEntry(link, link.entries[i], batch);
                        }
                        batch.publishAttach();
                    } catch (RuntimeException e) {
                        boolean published = i == n;
                        for (int j = i - 1; j >= 0; j--) {
                            undo(link, link.entries[j], published);
                        }
                        throw e;
                    }
                    for (GlobalEntry e : link.entries) {
                        commit(e);
                        retireOldImage(t, e.tr);
                        e.tr = null;
                        e.shim = null;
                    }
                    attached = true;
                } finally {
                    MultiAttach.unlockAll(t);
                }
            } finally {
                // The link keeps the hashes, emptied, for its detach (link->data).
                if (attached) {
                    batch.clear();
                    link.batch = batch;
                } else {
                    batch.free();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Links one function; on failure undoes what it did for that function and rethrows. */
    private void linkEntry(BpfTracingMultiLink link, GlobalEntry e, DirectBatch batch) {
        KernelFunction f = e.function;
        e.md = mds.create(f);
        try {
            e.node = mds.prepareLink(e.md, link.prog, e.cookie);
            // Whether the md had no program before this link: then the global caller does not serve
            // the function yet (nothing is linked between here and the commit: global_tr_lock).
            boolean firstProg = e.md.progCount == 0;
            if (linkBeforePublish) {
                commit(e); // Broken on purpose: live mds run the program before the publish.
            }
            BpfTrampoline tr = e.md.tramp;
            if (tr == null && firstProg) {
                BpfTrampoline regular = t.existingWithProgs(f);
                String fallback = fallbackReason(f);
                if (regular != null || fallback != null) {
                    tr = t.get(f);
                    e.tookTramp = true;
                    e.trOldFlags = tr.flags;
                    e.md.tramp = tr;
                    e.md.fallback = fallback;
                    if (fallback == null) {
                        tr.flags |= BpfTrampImage.F_MIX;
                    }
                }
            }
            if (tr == null) {
                if (firstProg) {
                    batch.addGlobal(f.ip());
                }
                return;
            }
            if (e.md.fallback != null) {
                // Every link the fallback trampoline serves here reports it, not only the first.
                link.fallbacks.add(new MultiLinkFallback(f.name(), e.md.fallback));
            }
            e.tr = tr;
            tr.multiOldImage = tr.cur;
            tr.multiOldFlags = e.tookTramp ? e.trOldFlags : tr.flags;
            TrampNode shim = new TrampNode(link.prog, e.cookie, link, true);
            tr.linkProgLocked(shim, batch);
            e.shim = shim;
        } catch (RuntimeException ex) {
            undo(link, e, false);
            throw ex;
        }
    }

    /** Links a prepared node into its md, where callers see it; cannot fail. */
    private void commit(GlobalEntry e) {
        if (!e.linked) {
            mds.commitLink(e.md, e.node);
            e.linked = true;
            e.node = null;
        }
    }

    /** Undoes one function of a failed attach. */
    private void undo(BpfTracingMultiLink link, GlobalEntry e, boolean published) {
        BpfTrampoline tr = e.tr;
        if (e.shim != null) {
            tr.progs(e.shim.prog.kind()).remove(e.shim);
            tr.multiRollback(published);
            e.shim = null;
        } else if (tr != null) {
            tr.flags = tr.multiOldFlags;
            tr.multiOldImage = null;
        }
        e.tr = null;
        // Targets are distinct within a link: this removes this function's report only.
        link.fallbacks.removeIf(fb -> fb.function().equals(e.function.name()));
        if (e.tookTramp) {
            BpfTrampoline taken = e.md.tramp;
            e.md.tramp = null;
            e.md.fallback = null;
            e.tookTramp = false;
            t.put(taken);
        }
        if (e.linked) {
            mds.unlink(e.md, link.prog);
            e.linked = false;
        } else if (e.node != null) {
            mds.abortLink(e.node);
        }
        e.node = null;
        mds.put(e.md);
        e.md = null;
    }

    /** {@code bpf_trampoline_multi_attach_free}: retires the image a multi update replaced. */
    static void retireOldImage(Trampolines t, BpfTrampoline tr) {
        if (tr != null) {
            t.images().retireReplaced(tr);
        }
    }

    /**
     * Detaches a multi link ({@link GlobalDetach}): either completely, or not at all when it fails,
     * leaving the link attached.
     */
    void detach(BpfTracingMultiLink link) {
        boolean[] lastSeenEarly = null;
        if (lastCheckUnlocked) {
            // Broken on purpose: which functions leave the global ops is read before global_tr_lock.
            lastSeenEarly = new boolean[link.entries.length];
            for (int i = 0; i < lastSeenEarly.length; i++) {
                lastSeenEarly[i] = link.entries[i].md.progCount == 1;
            }
        }
        lock.lock();
        try {
            new GlobalDetach(t, mds, link, lastSeenEarly).run();
        } finally {
            lock.unlock();
        }
        link.prog.put();
    }

    // ------------------------------------------------------------------ regular links

    /** Whether {@code bpf_global_caller} serves the function of {@code md} (null: it has none). */
    private static boolean globalCallerServes(KfuncMd md) {
        return md != null && md.progCount != 0 && md.tramp == null;
    }

    /**
     * {@code bpf_trampoline_link_prog} on a kernel with the global trampoline: a function the global
     * caller serves is taken over by its trampoline (every md program as a shim, the entry moved by
     * {@code update_ftrace_direct_mod}); any other links as usual.
     */
    void linkRegular(BpfTrampoline tr, TrampNode node) {
        KfuncMd early = null;
        boolean takeOverEarly = false;
        if (regularCheckUnlocked) {
            // Broken on purpose: the md, and whether to take the function over, read before the locks.
            early = mds.get(tr.function);
            takeOverEarly = globalCallerServes(early);
        }
        lock.lock();
        try {
            tr.mutex.lock();
            try {
                KfuncMd md = regularCheckUnlocked ? early : mds.get(tr.function);
                if (!(regularCheckUnlocked ? takeOverEarly : globalCallerServes(md))) {
                    tr.linkProgLocked(node, t.normalOps());
                    return;
                }
                takeOver(tr, md, node);
            } finally {
                tr.mutex.unlock();
            }
        } finally {
            lock.unlock();
        }
    }

    private void takeOver(BpfTrampoline tr, KfuncMd md, TrampNode node) {
        List<TrampNode> shims = new ArrayList<>();
        boolean onlyEntryShims = t.kernel().config().unsafeVariants().contains(UnsafeVariant.GTRAMP_MIX_DROPS_EXIT_SHIMS);
        for (BpfTrampKind kind : BpfTrampKind.values()) {
            if (onlyEntryShims && kind != BpfTrampKind.FENTRY) {
                continue; // Broken on purpose: the md's fexit and fmod_ret programs are left behind.
            }
            for (KfuncMdProg p : md.progs(kind)) {
                TrampNode shim = new TrampNode(p.prog, p.cookie, md, true);
                shims.add(shim);
                tr.progs(kind).add(0, shim);
            }
        }
        int oldFlags = tr.flags;
        tr.flags |= BpfTrampImage.F_MIX;
        try {
            tr.linkProgLocked(node, t.normalOps());
        } catch (RuntimeException e) {
            for (TrampNode shim : shims) {
                tr.progs(shim.prog.kind()).remove(shim);
            }
            tr.flags = oldFlags;
            throw e;
        }
        // The md's reference to the trampoline; trampoline_mutex nests inside the trampoline lock.
        md.tramp = t.get(tr.function);
    }

    /**
     * {@code bpf_trampoline_unlink_prog} on a kernel with the global trampoline: when the last regular
     * link of a taken-over function goes, the shims go too and the function moves back to the global
     * caller.
     */
    void unlinkRegular(BpfTrampoline tr, TrampNode node) {
        BpfTrampoline release = null;
        lock.lock();
        try {
            tr.mutex.lock();
            try {
                boolean mixed = (tr.flags & BpfTrampImage.F_MIX) != 0;
                if (tr.unlinkProgLocked(node, t.normalOps(), mixed)) {
                    KfuncMd md = mds.get(tr.function);
                    tr.flags &= ~BpfTrampImage.F_MIX;
                    md.tramp = null;
                    release = tr;
                }
            } finally {
                tr.mutex.unlock();
            }
            if (release != null) {
                t.put(release);
            }
        } finally {
            lock.unlock();
        }
    }

    /** One function of a global multi link. Fields are written under {@code global_tr_lock}. */
    static final class GlobalEntry {
        final KernelFunction function;
        final long cookie;
        KfuncMd md;
        /** The md's node for the link's program, prepared and not yet linked, during attach. */
        KfuncMdProg node;
        /** Whether the program is linked into the md. */
        boolean linked;
        /** The trampoline the shim is on, while an attach or detach is under way. */
        BpfTrampoline tr;
        TrampNode shim;
        /** Where a detach found the shim in its list, to put it back there if the detach fails. */
        int shimPosition;
        /** Whether this attach gave the md its trampoline (a fallback or a mix), and the flags before. */
        boolean tookTramp;
        int trOldFlags;

        GlobalEntry(KernelFunction function, long cookie) {
            this.function = function;
            this.cookie = cookie;
        }
    }
}
