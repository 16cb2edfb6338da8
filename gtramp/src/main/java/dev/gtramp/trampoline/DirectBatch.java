package dev.gtramp.trampoline;

import dev.gtramp.ftrace.Ftrace;
import dev.gtramp.ftrace.FtraceHash;
import dev.gtramp.ftrace.FtraceOps;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code trampoline_multi_ops} with {@code struct tracing_multi_data}: records each trampoline's
 * change in the {@code reg}, {@code unreg} or {@code modify} hash instead of calling ftrace, so that
 * a multi link reaches ftrace in one {@code update_ftrace_direct_add}, one {@code _del} and one
 * {@code _mod}. The global trampoline records its functions in the same hashes, with
 * {@code bpf_global_caller} as their target.
 *
 * <p>A multi link keeps its batch from attach to detach ({@code link->data}): the attach allocates
 * the three hashes ({@code init_tracing_multi_data}) and empties them when done
 * ({@code remove_tracing_multi_data}), so the detach needs no allocation of its own to record its
 * changes; it frees them ({@code clear_tracing_multi_data}). Entries are added without allocating.
 *
 * <p>Both publishes are all or nothing: on failure ftrace is as before the call (a compensating
 * update undoes a first one that passed), so the caller can restore its trampolines.
 */
final class DirectBatch implements TrampolineOps {
    private final Trampolines t;
    private final Ftrace ftrace;
    private FtraceHash reg;
    private FtraceHash unreg;
    private FtraceHash modify;

    DirectBatch(Trampolines t, int n) {
        this.t = t;
        this.ftrace = t.ftrace();
        try {
            reg = ftrace.allocHashFor(n);
            unreg = ftrace.allocHashFor(n);
            modify = ftrace.allocHashFor(n);
        } catch (RuntimeException e) {
            free();
            throw e;
        }
    }

    @Override
    public void registerFentry(BpfTrampoline tr, BpfTrampImage im) {
        reg.add(tr.ip, im);
    }

    @Override
    public void modifyFentry(BpfTrampoline tr, BpfTrampImage old, BpfTrampImage im, boolean lockDirectMutex) {
        modify.add(tr.ip, im);
    }

    @Override
    public void unregisterFentry(BpfTrampoline tr, BpfTrampImage old) {
        if ((tr.flags & BpfTrampImage.F_MIX) != 0) {
            // The function goes back to the global caller, which serves its md's programs.
            modify.add(tr.ip, t.globalCaller());
        } else {
            unreg.add(tr.ip, old);
        }
    }

    /** The function is new to the global ops: its site will call {@code bpf_global_caller}. */
    void addGlobal(long ip) {
        reg.add(ip, t.globalCaller());
    }

    /** The function leaves the global ops. */
    void delGlobal(long ip) {
        unreg.add(ip, t.globalCaller());
    }

    @Override
    public boolean putsOldImage() {
        return false;
    }

    void publishAttach() {
        FtraceOps ops = t.sharedDirectOps();
        if (ops == null) {
            publishClassicAttach();
            return;
        }
        if (!reg.isEmpty()) {
            ftrace.updateFtraceDirectAdd(ops, reg);
        }
        if (!modify.isEmpty()) {
            try {
                ftrace.updateFtraceDirectMod(ops, modify, true);
            } catch (RuntimeException e) {
                if (!reg.isEmpty()) {
                    ftrace.updateFtraceDirectDel(ops, reg);
                }
                throw e;
            }
        }
    }

    /**
     * Publishes a detach: one {@code update_ftrace_direct_del} of {@code unreg}, then one
     * {@code update_ftrace_direct_mod} of {@code modify}; if the mod fails, the del is undone by an
     * {@code update_ftrace_direct_add} of the same entries (their old targets are still live). The
     * kernel's detach WARNs and goes on instead ({@code WARN_ON_ONCE(update_ftrace_direct_del(..))}):
     * its link cannot stay. An undo that fails too is WARNed here and added to the thrown exception:
     * the sites of {@code unreg} then call nothing, as after the kernel's failed detach.
     */
    void publishDetach() {
        FtraceOps ops = t.sharedDirectOps();
        if (ops == null) {
            publishClassicDetach();
            return;
        }
        if (!unreg.isEmpty()) {
            ftrace.updateFtraceDirectDel(ops, unreg);
        }
        if (!modify.isEmpty()) {
            try {
                ftrace.updateFtraceDirectMod(ops, modify, true);
            } catch (RuntimeException e) {
                if (!unreg.isEmpty()) {
                    undo(e, () -> ftrace.updateFtraceDirectAdd(ops, unreg));
                }
                throw e;
            }
        }
    }

    /** The detach through each trampoline's own ops; a failure undoes the functions already done. */
    private void publishClassicDetach() {
        List<BpfTrampoline> unregistered = new ArrayList<>();
        List<BpfTrampoline> modified = new ArrayList<>();
        try {
            for (long ip : unreg.ips()) {
                BpfTrampoline tr = t.byIp(ip);
                ftrace.unregisterFtraceDirect(tr.fops, unreg.findDirect(ip), false);
                unregistered.add(tr);
            }
            for (long ip : modify.ips()) {
                BpfTrampoline tr = t.byIp(ip);
                ftrace.modifyFtraceDirect(tr.fops, modify.findDirect(ip));
                modified.add(tr);
            }
        } catch (RuntimeException e) {
            for (BpfTrampoline tr : modified) {
                undo(e, () -> ftrace.modifyFtraceDirect(tr.fops, tr.multiOldImage));
            }
            // The filter stays with the ops (unregister_ftrace_direct(.., false)): register again.
            for (BpfTrampoline tr : unregistered) {
                undo(e, () -> ftrace.registerFtraceDirect(tr.fops, unreg.findDirect(tr.ip)));
            }
            throw e;
        }
    }

    /** Runs a compensating update; if it fails, WARNs and records it on the failure being undone. */
    private void undo(RuntimeException failure, Runnable compensation) {
        try {
            compensation.run();
        } catch (RuntimeException e) {
            t.kernel().log().warn("bpf", "WARN_ON_ONCE: undoing a failed tracing multi update: " + e.getMessage());
            failure.addSuppressed(e);
        }
    }

    /** The batch through each trampoline's own ops; a failure undoes the functions already done. */
    private void publishClassicAttach() {
        List<BpfTrampoline> registered = new ArrayList<>();
        List<BpfTrampoline> modified = new ArrayList<>();
        try {
            for (long ip : reg.ips()) {
                BpfTrampoline tr = t.byIp(ip);
                ftrace.setFilterIp(tr.fops, ip, false, true);
                ftrace.registerFtraceDirect(tr.fops, reg.findDirect(ip));
                registered.add(tr);
            }
            for (long ip : modify.ips()) {
                BpfTrampoline tr = t.byIp(ip);
                ftrace.modifyFtraceDirect(tr.fops, modify.findDirect(ip));
                modified.add(tr);
            }
        } catch (RuntimeException e) {
            for (BpfTrampoline tr : modified) {
                ftrace.modifyFtraceDirect(tr.fops, tr.multiOldImage);
            }
            for (BpfTrampoline tr : registered) {
                ftrace.unregisterFtraceDirect(tr.fops, reg.findDirect(tr.ip), false);
            }
            throw e;
        }
    }

    /**
     * {@code remove_tracing_multi_data}: empties the hashes for the next update and keeps them
     * allocated.
     */
    void clear() {
        for (FtraceHash h : new FtraceHash[] {reg, unreg, modify}) {
            for (long ip : h.ips()) {
                h.remove(ip);
            }
        }
    }

    /** {@code clear_tracing_multi_data}: frees the hashes. */
    void free() {
        for (FtraceHash h : new FtraceHash[] {reg, unreg, modify}) {
            if (h != null) {
                ftrace.freeHash(h);
            }
        }
    }
}
