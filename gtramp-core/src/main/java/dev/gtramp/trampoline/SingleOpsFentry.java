package dev.gtramp.trampoline;

import dev.gtramp.ftrace.Ftrace;
import dev.gtramp.ftrace.FtraceHash;
import dev.gtramp.ftrace.FtraceOps;

import java.util.function.Consumer;

/**
 * {@code register_fentry}, {@code modify_fentry} and {@code unregister_fentry} through the shared
 * {@code direct_ops} ({@link FtraceStrategy#SINGLE_OPS}): each is an
 * {@code update_ftrace_direct_add/mod/del} of a one-entry hash.
 */
final class SingleOpsFentry implements TrampolineOps {
    private final Ftrace ftrace;
    private final FtraceOps directOps;

    SingleOpsFentry(Ftrace ftrace, FtraceOps directOps) {
        this.ftrace = ftrace;
        this.directOps = directOps;
    }

    @Override
    public void registerFentry(BpfTrampoline tr, BpfTrampImage im) {
        withOneEntry(tr.ip, im, h -> ftrace.updateFtraceDirectAdd(directOps, h));
    }

    @Override
    public void modifyFentry(BpfTrampoline tr, BpfTrampImage old, BpfTrampImage im, boolean lockDirectMutex) {
        withOneEntry(tr.ip, im, h -> ftrace.updateFtraceDirectMod(directOps, h, lockDirectMutex));
    }

    @Override
    public void unregisterFentry(BpfTrampoline tr, BpfTrampImage old) {
        withOneEntry(tr.ip, old, h -> ftrace.updateFtraceDirectDel(directOps, h));
    }

    private void withOneEntry(long ip, BpfTrampImage im, Consumer<FtraceHash> update) {
        FtraceHash h = ftrace.allocHash(0);
        h.add(ip, im);
        try {
            update.accept(h);
        } finally {
            ftrace.freeHash(h);
        }
    }

    @Override
    public boolean putsOldImage() {
        return true;
    }
}
