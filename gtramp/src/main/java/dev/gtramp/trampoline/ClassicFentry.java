package dev.gtramp.trampoline;

import dev.gtramp.ftrace.Ftrace;

/**
 * {@code register_fentry}, {@code modify_fentry} and {@code unregister_fentry} with one dynamic
 * {@code ftrace_ops} per trampoline ({@link FtraceStrategy#CLASSIC}).
 */
final class ClassicFentry implements TrampolineOps {
    private final Ftrace ftrace;

    ClassicFentry(Ftrace ftrace) {
        this.ftrace = ftrace;
    }

    @Override
    public void registerFentry(BpfTrampoline tr, BpfTrampImage im) {
        ftrace.setFilterIp(tr.fops, tr.ip, false, true);
        ftrace.registerFtraceDirect(tr.fops, im);
    }

    @Override
    public void modifyFentry(BpfTrampoline tr, BpfTrampImage old, BpfTrampImage im, boolean lockDirectMutex) {
        if (lockDirectMutex) {
            ftrace.modifyFtraceDirect(tr.fops, im);
        } else {
            ftrace.modifyFtraceDirectNolock(tr.fops, im);
        }
    }

    @Override
    public void unregisterFentry(BpfTrampoline tr, BpfTrampImage old) {
        ftrace.unregisterFtraceDirect(tr.fops, old, false);
    }

    @Override
    public boolean putsOldImage() {
        return true;
    }
}
