package dev.gtramp.ftrace;

/**
 * The work ftrace does for its users, counted exactly per kernel: what the scaling study reports
 * for each design. Each constant names the kernel code that does the work. The first four are
 * counted by the kernel's text patcher ({@code dev.gtramp.kernel.text.TextPoker}) for every poke.
 */
public enum Cost {
    /** {@code text_poke}: one write of one instruction's bytes (an int3, a tail, a first byte). */
    TEXT_POKES,
    /** {@code smp_text_poke_batch_finish} ({@code text_poke_bp_batch}) runs with at least one site. */
    POKE_BATCHES,
    /** {@code text_poke_sync}: {@code on_each_cpu(do_sync_core)}, a cross-CPU barrier. */
    CORE_SYNCS,
    /** {@code smp_call_function(ftrace_sync_ipi)}: an IPI round without core serialisation. */
    SYNC_IPIS,
    /** Entry sites whose instruction changed ({@code ftrace_replace_code} queued them). */
    SITES_PATCHED,
    /** {@code ftrace_update_ftrace_func}: the {@code ftrace_call} sites re-pointed. */
    TRACE_FUNC_UPDATES,
    /** {@code alloc_ftrace_hash}: hashes allocated. */
    HASHES_ALLOCATED,
    /** Hash entries copied into a new hash ({@code alloc_and_copy_ftrace_hash}, {@code hash_add}, ...). */
    HASH_ENTRIES_COPIED,
    /** Record reference updates ({@code __ftrace_hash_rec_update}: one per record per ops change). */
    RECORD_UPDATES,
    /** {@code register_ftrace_function}: ops put on {@code ftrace_ops_list}. */
    OPS_REGISTERED,
    /** {@code unregister_ftrace_function}: ops taken off {@code ftrace_ops_list}. */
    OPS_UNREGISTERED,
    /** {@code ftrace_update_ops}: a live ops' filter replaced. */
    OPS_UPDATED,
    /** {@code synchronize_rcu}. */
    GRACE_PERIODS_RCU,
    /** {@code synchronize_rcu_tasks}. */
    GRACE_PERIODS_TASKS,
    /** {@code synchronize_rcu_tasks_rude}. */
    GRACE_PERIODS_TASKS_RUDE,
    /** {@code call_rcu}: a replaced filter hash freed after a grace period, without waiting. */
    CALL_RCU,
    /** {@code call_rcu_tasks}: frees deferred to a tasks-RCU grace period, without waiting. */
    CALL_RCU_TASKS
}
