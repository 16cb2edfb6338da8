package dev.gtramp.trampoline;

/**
 * {@code struct bpf_trampoline_ops}: how {@link BpfTrampoline#update} publishes an image. The
 * normal ops call ftrace at once, through the kernel's {@link FtraceStrategy}; the multi-attach ops
 * only record each change for one batched ftrace update of many trampolines.
 */
interface TrampolineOps {
    /** {@code register_fentry}: the function gets its first image. */
    void registerFentry(BpfTrampoline tr, BpfTrampImage im);

    /** {@code modify_fentry}: the function's call site moves from {@code old} to {@code im}. */
    void modifyFentry(BpfTrampoline tr, BpfTrampImage old, BpfTrampImage im, boolean lockDirectMutex);

    /** {@code unregister_fentry}: the function loses its last program. */
    void unregisterFentry(BpfTrampoline tr, BpfTrampImage old);

    /**
     * Whether {@link BpfTrampoline#update} retires the replaced image at once. The multi ops keep it
     * until the batch is published (or restore it on rollback).
     */
    boolean putsOldImage();
}
