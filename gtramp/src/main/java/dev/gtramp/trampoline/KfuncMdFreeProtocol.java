package dev.gtramp.trampoline;

/**
 * How {@code kfunc_md_put} frees a {@code kfunc_md} whose last user is gone, and with it how
 * {@code bpf_global_caller} protects the md while it runs. Both are safe; the
 * {@link dev.gtramp.kernel.UnsafeVariant}s {@code KFUNC_MD_FREE_AFTER_RCU_ONLY} and
 * {@code KFUNC_MD_KILL_BEFORE_GRACE_PERIOD} break one step each for the stress suite.
 */
public enum KfuncMdFreeProtocol {
    /**
     * The rhashtable version (github menglongdong/bpf): unlink from the table, {@code call_rcu}, in the
     * callback {@code percpu_ref_kill}, and on the release {@code call_rcu} of the free (that
     * branch's release frees in place; the model's free takes locks, and the release may run on a
     * traced call). The caller holds
     * {@code rcu_read_lock} from the lookup through the fentry and fmod_ret programs, takes the
     * {@code percpu_ref} inside that section before an origin call, and walks the fexit list in a new
     * read-side section. Program entries are freed with {@code kfree_rcu}.
     */
    RCU_THEN_KILL,
    /**
     * The v2 series: unlink, {@code percpu_ref_kill} at once, and on the release
     * {@code call_rcu_tasks_trace} then {@code call_rcu_tasks} then free, as
     * {@code bpf_tramp_image_put} does. The caller holds {@code rcu_read_lock} only for the lookup and
     * the {@code percpu_ref_get}; tasks RCU covers the rest of the caller's code. Program entries go
     * through the same two tasks grace periods. (Tasks-trace RCU, for sleepable programs, is modelled
     * by an RCU grace period: sleepable programs are not modelled.)
     */
    KILL_THEN_TASKS_RCU
}
