package dev.gtramp.kernel.rcu;

/** The RCU flavors the model offers, each with the kernel flavor it stands for. */
public enum RcuFlavor {
    /**
     * Quiescent-state-based RCU, as in a non-preemptible kernel ({@code CONFIG_PREEMPT_NONE}): read-side
     * lock and unlock cost nothing; a CPU reports a quiescent state at the end of its outermost
     * kernel call and goes offline when idle.
     */
    QSBR("rcu_sched"),
    /**
     * RCU for any thread with nesting read-side critical sections and no cooperation, like
     * {@code CONFIG_PREEMPT_RCU}: a reader publishes the grace-period epoch it entered in, and a
     * grace period waits for every reader of an older epoch to leave.
     */
    GENERAL("rcu_preempt"),
    /**
     * Tasks RCU ({@code call_rcu_tasks}), which protects trampoline code: a CPU is quiescent only
     * when it runs no trampoline. Modelled on the QSBR machinery: a CPU at the end of its outermost
     * kernel call, or idle, is inside no trampoline.
     */
    TASKS("rcu_tasks");

    private final String kernelName;

    RcuFlavor(String kernelName) {
        this.kernelName = kernelName;
    }

    /** The name the kernel gives the flavor in its messages, e.g. {@code rcu_preempt}. */
    public String kernelName() {
        return kernelName;
    }
}
