package dev.gtramp.trampoline;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.image.ImageFunction;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code bpf_trampoline_multi_attach} and {@code bpf_trampoline_multi_detach}, with the checks
 * libbpf's {@code bpf_program__attach_tracing_multi} and the syscall make first.
 *
 * <p>Attach: check every target and take its trampoline ({@code bpf_trampoline_get}); allocate the
 * {@code reg}, {@code unreg} and {@code modify} hashes; take all 32 trampoline locks; link the
 * program into each trampoline with the multi ops, which build each new image but only record
 * {@code ip → image} in {@code reg} (the function's first image) or {@code modify} (a replacement);
 * then one {@code update_ftrace_direct_add(direct_ops, reg)} and one
 * {@code update_ftrace_direct_mod(direct_ops, modify)} (if the mod fails, {@code del(reg)}); then
 * retire the replaced images. Any failure unlinks the program from the trampolines done so far,
 * restores their images and flags, and puts every trampoline taken: nothing of the link remains.
 * The hashes stay with the link, emptied, for the detach.
 *
 * <p>Detach: the same in reverse, with the link's hashes, one {@code update_ftrace_direct_del} and
 * one {@code _mod}; a failure before the point of no return (the publish) puts every node back, so
 * the link stays attached.
 *
 * <p>With {@link FtraceStrategy#CLASSIC} (kernels before the single direct ops) the same batch is
 * published per function through each trampoline's own ops, which is what the link would cost there.
 */
final class MultiAttach {
    /** The most targets one link may name: the model's bound, 2^20 like kprobe_multi's {@code MAX_KPROBE_MULTI_CNT}. */
    static final int MAX_MULTI_CNT = 1 << 20;

    private MultiAttach() {
    }

    static BpfTracingMultiLink attach(Trampolines t, BpfProg prog, String pattern, TracingMultiOpts opts) {
        if (!prog.attachType().isMulti()) {
            throw new KernelException(Errno.EINVAL, prog + " is not a multi program (expected attach type "
                    + prog.attachType() + "); attach it with attach()");
        }
        List<KernelFunction> targets = resolve(t, pattern, opts);
        long[] cookies = opts == null ? null : opts.cookies;
        List<MultiLinkSkip> skipped = List.of();
        if (opts != null && opts.skipInvalid) {
            skipped = new ArrayList<>();
            targets = new ArrayList<>(targets);
            cookies = skipInvalid(t, prog, targets, cookies, skipped);
        } else {
            for (KernelFunction f : targets) {
                AttachChecks.check(t, prog, f);
            }
        }
        if (t.global() != null) {
            BpfTracingMultiLink link = BpfTracingMultiLink.global(t, prog, targets, cookies);
            link.skipped = List.copyOf(skipped);
            prog.get();
            try {
                t.global().attach(link);
            } catch (RuntimeException e) {
                prog.put();
                throw e;
            }
            return link;
        }
        prog.get();
        List<BpfTrampoline> trs = new ArrayList<>(targets.size());
        try {
            for (KernelFunction f : targets) {
                trs.add(t.get(f));
            }
            BpfTracingMultiLink link = new BpfTracingMultiLink(t, prog, trs, cookies);
            link.skipped = List.copyOf(skipped);
            link(t, link);
            return link;
        } catch (RuntimeException e) {
            for (BpfTrampoline tr : trs) {
                t.put(tr);
            }
            prog.put();
            throw e;
        }
    }

    /**
     * Removes from the mutable {@code targets} (in place, order kept) every function the attach checks refuse,
     * recording each in {@code skipped}, and returns the cookies of the functions kept. A program of
     * another kernel is misuse, not an invalid target: it still fails.
     *
     * @throws KernelException EINVAL if every target is refused
     */
    private static long[] skipInvalid(Trampolines t, BpfProg prog, List<KernelFunction> targets, long[] cookies,
                                      List<MultiLinkSkip> skipped) {
        if (prog.kernel() != t.kernel()) {
            AttachChecks.check(t, prog, targets.get(0));
        }
        long[] kept = cookies == null ? null : new long[targets.size()];
        int n = 0;
        for (int i = 0; i < targets.size(); i++) {
            KernelFunction f = targets.get(i);
            String why = AttachChecks.refusal(t, prog, f);
            if (why != null) {
                skipped.add(new MultiLinkSkip(f.name(), why));
                continue;
            }
            if (kept != null) {
                kept[n] = cookies[i];
            }
            targets.set(n++, f);
        }
        targets.subList(n, targets.size()).clear();
        if (n == 0) {
            throw new KernelException(Errno.EINVAL, "tracing multi attach of " + prog + ": all " + skipped.size()
                    + " targets are invalid (first: " + skipped.get(0).function() + ": " + skipped.get(0).reason() + ")");
        }
        return kept == null ? null : Arrays.copyOf(kept, n);
    }

    /** The targets, in order, after libbpf's and the syscall's argument checks. */
    static List<KernelFunction> resolve(Trampolines t, String pattern, TracingMultiOpts opts) {
        Kernel kernel = t.kernel();
        if (pattern == null && opts == null) {
            throw new KernelException(Errno.EINVAL, "tracing multi attach needs a pattern or opts; both are null");
        }
        if (pattern != null && opts != null && opts.hasTargets()) {
            throw new KernelException(Errno.EINVAL, "tracing multi attach takes a pattern or target ids, not both");
        }
        if (pattern != null && opts != null && opts.cookies != null) {
            throw new KernelException(Errno.EINVAL, "tracing multi attach: cookies need explicit targets, not a pattern");
        }
        if (pattern != null) {
            List<KernelFunction> matched = t.globResolutions().resolve(pattern);
            if (matched.isEmpty()) {
                throw new KernelException(Errno.EINVAL, "no traceable function matches " + pattern);
            }
            return matched;
        }
        List<KernelFunction> targets = new ArrayList<>();
        if (!opts.hasTargets()) {
            throw new KernelException(Errno.EINVAL, "tracing multi attach: opts name no targets");
        }
        int given = opts.ids != null ? opts.ids.length : opts.names.size();
        int cnt = opts.cnt >= 0 ? opts.cnt : given;
        if (cnt == 0) {
            throw new KernelException(Errno.EINVAL, "tracing multi attach: cnt is 0");
        }
        if (cnt > MAX_MULTI_CNT) {
            throw new KernelException(Errno.E2BIG, "tracing multi attach: cnt " + cnt + " exceeds " + MAX_MULTI_CNT);
        }
        if (cnt > given || (opts.cookies != null && opts.cookies.length < cnt)) {
            throw new KernelException(Errno.EFAULT, "tracing multi attach: cnt " + cnt + " but only " + given
                    + " targets" + (opts.cookies != null ? " and " + opts.cookies.length + " cookies" : "") + " given");
        }
        List<ImageFunction> all = kernel.image().functions();
        Set<KernelFunction> seen = new HashSet<>();
        for (int i = 0; i < cnt; i++) {
            KernelFunction f;
            if (opts.ids != null) {
                long id = opts.ids[i];
                ImageFunction img = id >= 0 && id < all.size() ? all.get((int) id) : null;
                if (img == null || !img.hasAddress()) {
                    throw new KernelException(Errno.EINVAL, "tracing multi attach: target " + i + " has BTF id " + id
                            + ", which is no function with an address");
                }
                f = kernel.function(img);
            } else {
                f = t.lookup(opts.names.get(i));
            }
            if (!seen.add(f)) {
                throw new KernelException(Errno.EINVAL, "tracing multi attach: " + f.name() + " is given twice");
            }
            targets.add(f);
        }
        return targets;
    }

    /**
     * Links the program into every trampoline and publishes the batch, or undoes everything. The
     * link keeps the batch's hashes, emptied, for its detach.
     */
    private static void link(Trampolines t, BpfTracingMultiLink link) {
        DirectBatch batch = new DirectBatch(t, link.trampolines.size());
        boolean attached = false;
        try {
            lockAll(t);
            try {
                int i = 0;
                try {
                    for (; i < link.trampolines.size(); i++) {
                        BpfTrampoline tr = link.trampolines.get(i);
                        tr.multiOldImage = tr.cur;
                        tr.multiOldFlags = tr.flags;
                        tr.linkProgLocked(link.nodes.get(i), batch);
                    }
                } catch (RuntimeException e) {
                    rollback(t, link, i, false);
                    throw e;
                }
                try {
                    batch.publishAttach();
                } catch (RuntimeException e) {
                    rollback(t, link, link.trampolines.size(), true);
                    throw e;
                }
                retireOldImages(t, link);
                attached = true;
            } finally {
                unlockAll(t);
            }
        } finally {
            if (attached) {
                batch.clear();
                link.batch = batch;
            } else {
                batch.free();
            }
        }
    }

    /**
     * Undoes the links of nodes {@code [0, count)}: the node leaves its list, the trampoline gets its
     * old image and flags back, and the new image is freed (retired through grace periods if the
     * batch was published, since calls may have entered it before ftrace rolled back).
     */
    private static void rollback(Trampolines t, BpfTracingMultiLink link, int count, boolean published) {
        for (int j = 0; j < count; j++) {
            BpfTrampoline tr = link.trampolines.get(j);
            tr.progs(link.nodes.get(j).prog.kind()).remove(link.nodes.get(j));
            tr.multiRollback(published);
        }
    }

    private static void retireOldImages(Trampolines t, BpfTracingMultiLink link) {
        for (BpfTrampoline tr : link.trampolines) {
            t.images().retireReplaced(tr);
        }
    }

    /**
     * {@code bpf_trampoline_multi_detach}: unlinks the program from every trampoline, building each
     * image without it, and publishes the batch in the link's own hashes (allocated by the attach).
     * Up to the publish everything can fail (an image, ftrace's own hashes, a site) and is undone:
     * every node back in its place, every trampoline's image and flags restored, the new images
     * freed, so the link stays attached and open. After it nothing can fail: the old images are
     * retired, the trampolines and the program put. The kernel, whose detach returns void, WARNs on
     * each failure and goes on instead.
     */
    static void detach(Trampolines t, BpfTracingMultiLink link) {
        DirectBatch batch = link.batch;
        int n = link.trampolines.size();
        // Where each node sat in its list, so an undone unlink puts it back in its run order.
        int[] positions = new int[n];
        lockAll(t);
        try {
            int i = 0;
            try {
                for (; i < n; i++) {
                    BpfTrampoline tr = link.trampolines.get(i);
                    TrampNode node = link.nodes.get(i);
                    tr.multiOldImage = tr.cur;
                    tr.multiOldFlags = tr.flags;
                    positions[i] = tr.progs(node.prog.kind()).indexOf(node);
                    // On failure this trampoline is as it was (its lists, image and flags).
                    tr.unlinkProgLocked(node, batch);
                }
                batch.publishDetach();
            } catch (RuntimeException e) {
                if (i < n) {
                    link.trampolines.get(i).multiOldImage = null;
                }
                relink(t, link, i, positions, i == n);
                throw e;
            } finally {
                batch.clear();
            }
            retireOldImages(t, link);
        } finally {
            unlockAll(t);
        }
        link.batch = null;
        batch.free();
        for (BpfTrampoline tr : link.trampolines) {
            t.put(tr);
        }
        link.prog.put();
    }

    /**
     * Undoes the unlinks of nodes {@code [0, count)} of a failed detach: each node back at its
     * position, each trampoline's image and flags restored, and the image built without the node
     * freed (retired through grace periods if the publish was tried: classic ops may have sent
     * calls into it before undoing).
     */
    private static void relink(Trampolines t, BpfTracingMultiLink link, int count, int[] positions,
                               boolean published) {
        for (int j = 0; j < count; j++) {
            BpfTrampoline tr = link.trampolines.get(j);
            TrampNode node = link.nodes.get(j);
            tr.progs(node.prog.kind()).add(positions[j], node);
            tr.multiRollback(published);
        }
    }

    /** {@code trampoline_lock_all}: the 32 locks in order, so two multi links never deadlock. */
    static void lockAll(Trampolines t) {
        for (ReentrantLock l : t.locks()) {
            l.lock();
        }
    }

    static void unlockAll(Trampolines t) {
        ReentrantLock[] locks = t.locks();
        for (int i = locks.length - 1; i >= 0; i--) {
            locks[i].unlock();
        }
    }
}
