package dev.gtramp.trampoline;

import dev.gtramp.trampoline.GlobalTrampoline.GlobalEntry;

import java.util.ArrayList;
import java.util.List;

/**
 * The detach of a global multi link ({@code bpf_gtrampoline_unlink_prog} for each function, batched
 * like {@code bpf_trampoline_multi_detach}), in two steps so that it either completes or changes
 * nothing.
 *
 * <ol>
 * <li>Everything that can fail, undone on failure: unlink the program's shim from each trampoline
 *     serving one of its functions (building the image without it) and record each function's
 *     ftrace change in the link's own hashes, which the attach allocated; then one
 *     {@code update_ftrace_direct_del} for the functions left without programs and one
 *     {@code _mod} for the trampolines that changed, all or nothing ({@link DirectBatch}). A
 *     failure puts every shim back in its place and restores every image and flag: the link stays
 *     attached and open.</li>
 * <li>Past the point of no return, what cannot fail: unlink the program from each md
 *     ({@code kfunc_md_bpf_unlink}; until then the global caller still ran it, the link being
 *     attached), release the trampolines of mds left without programs, retire the replaced images,
 *     put the mds.</li>
 * </ol>
 * The mds are unchanged until the second step, so every decision of the first reads the md as it
 * is: the program is its md's last when {@code progCount == 1}.
 *
 * <p>The caller holds {@code global_tr_lock}; the trampoline locks are taken here.
 */
final class GlobalDetach {
    private final Trampolines t;
    private final KfuncMds mds;
    private final BpfTracingMultiLink link;
    /**
     * {@link dev.gtramp.kernel.UnsafeVariant#GTRAMP_DETACH_LAST_CHECK_UNLOCKED}: whether each
     * function's md had this program as its last, read before {@code global_tr_lock}; else null.
     */
    private final boolean[] lastSeenEarly;

    GlobalDetach(Trampolines t, KfuncMds mds, BpfTracingMultiLink link, boolean[] lastSeenEarly) {
        this.t = t;
        this.mds = mds;
        this.link = link;
        this.lastSeenEarly = lastSeenEarly;
    }

    /**
     * Detaches the link, except for its program reference, which the caller drops.
     *
     * @throws dev.gtramp.kernel.KernelException ENOMEM or EFAULT from an image or ftrace; nothing
     *         changed then
     */
    void run() {
        DirectBatch batch = link.batch;
        GlobalEntry[] entries = link.entries;
        List<BpfTrampoline> released = new ArrayList<>();
        MultiAttach.lockAll(t);
        try {
            int i = 0;
            try {
                for (; i < entries.length; i++) {
                    boolean last = lastSeenEarly != null ? lastSeenEarly[i] : entries[i].md.progCount == 1;
                    unlinkShim(entries[i], batch, last);
                }
                batch.publishDetach();
            } catch (RuntimeException ex) {
                for (int j = i - 1; j >= 0; j--) {
                    relinkShim(entries[j], i == entries.length);
                }
                throw ex;
            } finally {
                batch.clear();
            }
            for (GlobalEntry e : entries) {
                unlinkMd(e, released);
            }
        } finally {
            MultiAttach.unlockAll(t);
        }
        link.batch = null;
        batch.free();
        for (BpfTrampoline tr : released) {
            t.put(tr);
        }
        for (GlobalEntry e : entries) {
            mds.put(e.md);
            e.md = null;
        }
    }

    /**
     * The first step for one function. The global caller serves it: it leaves the global ops if the
     * program is its md's last. A trampoline serves it: the shim is unlinked, and the trampoline is
     * the function's own again if no md program is left. On failure the entry and its trampoline
     * are as before.
     *
     * @param lastOfMd whether the program is its md's last ({@code progCount == 1})
     */
    private void unlinkShim(GlobalEntry e, DirectBatch batch, boolean lastOfMd) {
        KfuncMd md = e.md;
        BpfTrampoline tr = md.tramp;
        if (tr == null) {
            if (lastOfMd) {
                batch.delGlobal(md.ip);
            }
            return;
        }
        TrampNode shim = tr.findShim(link.prog);
        int position = tr.progs(shim.prog.kind()).indexOf(shim);
        tr.multiOldImage = tr.cur;
        tr.multiOldFlags = tr.flags;
        if (lastOfMd) {
            tr.flags &= ~BpfTrampImage.F_MIX;
        }
        try {
            tr.unlinkProgLocked(shim, batch);
        } catch (RuntimeException ex) {
            tr.flags = tr.multiOldFlags;
            tr.multiOldImage = null;
            throw ex;
        }
        e.tr = tr;
        e.shim = shim;
        e.shimPosition = position;
    }

    /**
     * Undoes {@link #unlinkShim} after a failure: the shim back at its position, the image and flags
     * restored, the image built without the shim freed (retired through grace periods if the publish
     * was tried).
     */
    private void relinkShim(GlobalEntry e, boolean published) {
        BpfTrampoline tr = e.tr;
        if (tr == null) {
            return;
        }
        tr.progs(e.shim.prog.kind()).add(e.shimPosition, e.shim);
        tr.multiRollback(published);
        e.tr = null;
        e.shim = null;
    }

    /** The second step for one function, after the publish: nothing here fails. */
    private void unlinkMd(GlobalEntry e, List<BpfTrampoline> released) {
        KfuncMd md = e.md;
        mds.unlink(md, link.prog);
        BpfTrampoline tr = e.tr;
        if (tr == null) {
            return;
        }
        if (md.progCount == 0) {
            // No program of the md is left: the md's reference to the trampoline goes.
            md.tramp = null;
            md.fallback = null;
            released.add(tr);
        }
        GlobalTrampoline.retireOldImage(t, tr);
        e.tr = null;
        e.shim = null;
    }
}
