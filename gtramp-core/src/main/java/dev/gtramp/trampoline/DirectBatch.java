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

    void publishDetach() {
        FtraceOps ops = t.sharedDirectOps();
        if (ops == null) {
            for (long ip : unreg.ips()) {
                BpfTrampoline tr = t.byIp(ip);
                ftrace.unregisterFtraceDirect(tr.fops, unreg.findDirect(ip), false);
            }
            for (long ip : modify.ips()) {
                ftrace.modifyFtraceDirect(t.byIp(ip).fops, modify.findDirect(ip));
            }
            return;
        }
        if (!unreg.isEmpty()) {
            ftrace.updateFtraceDirectDel(ops, unreg);
        }
        if (!modify.isEmpty()) {
            ftrace.updateFtraceDirectMod(ops, modify, true);
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

    void free() {
        for (FtraceHash h : new FtraceHash[] {reg, unreg, modify}) {
            if (h != null) {
                ftrace.freeHash(h);
            }
        }
    }
}
