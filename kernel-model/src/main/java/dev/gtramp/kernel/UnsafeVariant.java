package dev.gtramp.kernel;

/**
 * Deliberately broken versions of the model's algorithms. They exist so that the stress suite can
 * prove its tests catch the hazard each guards against: every jcstress test runs against the real
 * algorithm, where its forbidden outcome must never appear, and against the broken variant, where it
 * must. Never enable one for any other purpose.
 */
public enum UnsafeVariant {
    /**
     * A grace period scans the readers before it advances the grace-period number, comparing each
     * with the number it already has: every online reader, inside a section or not, looks
     * quiescent, so the grace period waits for nobody.
     */
    RCU_SCAN_BEFORE_ADVANCE,
    /**
     * The general flavor's grace-period check takes a reader for quiescent when its epoch is at
     * least the epoch before the advance ({@code w >= target - 1}, a {@code >=} where {@code >} was
     * meant): a reader that entered its section before the grace period began is not waited for.
     */
    RCU_EPOCH_CHECK_OFF_BY_ONE,
    /**
     * After its stall warning a grace period stops waiting for the reader it warned about, as if a
     * stalled CPU could be given up on: a slow reader's objects are freed under it.
     */
    RCU_GP_GIVES_UP_ON_STALL,
    /**
     * A caller shares a grace period that was already in progress when it called, which may have
     * passed a reader before the caller's update ({@code rcu_seq_snap} without its "+ 1").
     */
    RCU_SHARE_STARTED_GRACE_PERIOD,
    /** The general flavor's outermost {@code rcu_read_lock} publishes its epoch without the full fence. */
    RCU_READER_NO_FENCE,
    /** A QSBR reader comes online without the full fence after publishing its counter. */
    QSBR_ONLINE_NO_FENCE,
    /**
     * The general flavor's CPU offline clears the slot of the reader that ran there, as QSBR's
     * offline clears its counter, as if a CPU going away took its readers with it: a preemptible
     * reader that was preempted inside its section on the outgoing CPU, and resumes on another one,
     * is no longer waited for, and a grace period under way ends while it still holds what it read
     * (the kernel hands such tasks over, {@code rcu_preempt_offline_tasks}, instead).
     */
    RCU_OFFLINE_DROPS_PREEMPTED_READER,
    /**
     * A QSBR CPU going offline reports a quiescent state (its counter set to the current grace-period
     * number) instead of entering the extended quiescent state (its counter cleared), as if
     * {@code rcu_report_dead} only had to report the quiescent state and could leave the CPU in the
     * grace period's mask: the grace period under way ends, but every later one waits for the
     * offline CPU for ever.
     */
    QSBR_OFFLINE_REPORTS_QS,
    /**
     * {@code Kernel.close()} closes RCU and then tasks RCU, each after draining its own callbacks,
     * instead of draining both until no chain of callbacks has a step left: a tasks-RCU callback
     * that calls {@code call_rcu} (an fexit image's teardown) finds RCU closed, and the chain ends.
     */
    KERNEL_CLOSE_DOMAINS_IN_TURN,
    /** {@code percpu_ref_kill} folds the per-CPU counts in at once, without waiting for a grace period. */
    PERCPU_REF_KILL_WITHOUT_GRACE_PERIOD,
    /**
     * {@code percpu_ref_resurrect} (and so {@code percpu_ref_reinit}) switches the ref back to percpu
     * mode itself ({@code __percpu_ref_switch_to_percpu}) instead of through
     * {@code __percpu_ref_switch_mode}, skipping its wait for a switch to atomic mode in flight: a
     * resurrect right after a kill zeroes the per-CPU counters before the kill's grace period has
     * ended and its callback folded them, so the references counted there are lost, and the late
     * callback then folds the new per-CPU counts a second time.
     */
    PERCPU_REF_RESURRECT_WITHOUT_SWITCH_WAIT,
    /**
     * Text patching writes an entry site's first byte, syncs the CPUs, then writes the rest, without
     * the int3 that {@code text_poke_bp_batch} puts in first: a CPU can execute the new opcode with
     * the old operand (or the reverse) in between.
     */
    TEXT_POKE_WITHOUT_INT3,
    /**
     * ftrace frees a replaced {@code direct_functions} hash at once instead of after a tasks-RCU
     * grace period ({@code call_rcu_tasks}), while a CPU in {@code ftrace_ops_list_func} may still
     * be reading it.
     */
    DIRECT_HASH_FREE_WITHOUT_TASKS_RCU,
    /**
     * {@code update_ftrace_direct_mod} and {@code modify_ftrace_direct} change the entries of
     * {@code direct_functions} in place without first registering the stub ops: the sites' records
     * do not change, so nothing re-patches them and they keep calling the old trampoline.
     */
    DIRECT_MOD_WITHOUT_STUB_OPS,
    /**
     * {@code bpf_tramp_image_put} of an image with an origin call frees it after a tasks-RCU grace
     * period without {@code percpu_ref_kill} and its wait: a call that sleeps inside the origin
     * function (a tasks-RCU quiescent state) returns into a freed image.
     */
    TRAMP_IMAGE_PUT_WITHOUT_PERCPU_REF,
    /**
     * {@code bpf_trampoline_update} rewrites the program lists of the current image in place instead
     * of building a new image and swapping the call site to it: a call already inside the image can
     * run the old fentry programs and the new fexit programs.
     */
    TRAMP_IMAGE_UPDATE_IN_PLACE,
    /**
     * A multi attach or detach frees each trampoline image it replaced the way a failed attach frees
     * the image it built and never published ({@code bpf_tramp_image_free} at once), not by
     * {@code bpf_tramp_image_put}: the two free paths sit side by side in the multi code, and a call
     * still inside the replaced image (sleeping in the origin, say) returns into freed memory.
     */
    MULTI_RETIRE_AS_UNPUBLISHED,
    /**
     * {@code kfunc_md_put} frees the md one RCU grace period after unlinking it, without
     * {@code percpu_ref_kill} and its wait: a call that sleeps in the origin function (an RCU
     * quiescent state) holds the md's {@code percpu_ref}, and returns to run the fexit programs of a
     * freed md.
     */
    KFUNC_MD_FREE_AFTER_RCU_ONLY,
    /**
     * A global multi attach links its program into each function's {@code kfunc_md} before the
     * ftrace update that may still fail, as a plain {@code kfunc_md_bpf_link} loop would: an md the
     * global caller already serves runs the program of an attach that then fails and is undone.
     */
    GTRAMP_LINK_BEFORE_PUBLISH,
    /**
     * {@code kfunc_md_put} kills the md's {@code percpu_ref} right after unlinking it and frees the md
     * on the release, with no grace period of its own: neither the {@code call_rcu} before the kill
     * nor the tasks-RCU grace periods after it. The kill's switch to atomic mode waits only for
     * {@code rcu_read_lock} sections, so a caller running the fentry programs outside one (the v2
     * caller, which relies on tasks RCU there) walks a freed md.
     */
    KFUNC_MD_KILL_BEFORE_GRACE_PERIOD,
    /**
     * {@code kfunc_md_create} and {@code kfunc_md_put} look up, count {@code users} and insert or
     * remove without {@code kfunc_md_mutex}: two creates can both miss and insert two mds, and a put
     * can free the md a racing create just took.
     */
    KFUNC_MD_USERS_UNLOCKED,
    /**
     * The hash md table's release of a freed md deletes the table's entry for {@code md->func}
     * (a delete by ip of whatever the table holds there), a cleanup copied from the padding index,
     * whose release clears the md's slot, without that release's check that the entry is still the
     * freed md's: a new md created for the same function while the old one waited for a call in
     * the origin is unpublished by the old one's free, and the function's site, still calling
     * {@code bpf_global_caller}, finds no md and runs none of the new link's programs.
     */
    KFUNC_MD_RELEASE_REMOVES_BY_IP,
    /**
     * The padding md index's writer lookup ({@code kfunc_md_create} looking for the function's md)
     * scans the array's slots for {@code md->func}, without skipping the mds marked
     * {@code KFUNC_MD_FL_DEAD}, whose slots stay taken until their free: a create for a function whose
     * md was unpublished and waits for a call in the origin revives that md, linking the new
     * program into a killed md that the call then runs and the call's last reference frees, with
     * the new link still on it and the function's padding left without its {@code mov $slot}.
     */
    PADDING_MD_LOOKUP_FINDS_DEAD,
    /**
     * Moving a function between the global caller and its own trampoline deletes the ip from
     * {@code direct_ops} and adds it back with the new target ({@code update_ftrace_direct_del}, then
     * {@code _add}) instead of one {@code update_ftrace_direct_mod}: calls in between run no program.
     */
    GTRAMP_MIX_DEL_THEN_ADD,
    /**
     * A function's trampoline taking it over from the global caller carries only the md's fentry
     * programs as shims: the md's fexit and fmod_ret programs do not run while the trampoline
     * serves the function.
     */
    GTRAMP_MIX_DROPS_EXIT_SHIMS,
    /**
     * The global multi detach decides which of its functions leave the global ops (its program the
     * md's last, {@code progCount == 1}) before it takes {@code global_tr_lock}: two links detaching
     * at once from a function they share both see the other's program still on the md, neither
     * deletes the function from {@code direct_ops}, and its site keeps calling
     * {@code bpf_global_caller} after the md is gone.
     */
    GTRAMP_DETACH_LAST_CHECK_UNLOCKED,
    /**
     * A regular link's attach on the global trampoline looks up the function's {@code kfunc_md} and
     * decides to take the function over from {@code bpf_global_caller} before it takes
     * {@code global_tr_lock} and {@code tr->mutex}: a multi detach in between removes the function's
     * entry from {@code direct_ops}, and the takeover's {@code update_ftrace_direct_mod} then moves
     * no entry: the attach returns success with the site not calling the trampoline, and the
     * regular program never runs.
     */
    GTRAMP_REGULAR_MD_CHECK_UNLOCKED,
    /**
     * The padding md index grows its array by publishing the new, empty array first and copying the
     * used slots into it afterwards ({@code rcu_assign_pointer} before the {@code memcpy}): a caller
     * that loads the new array before the copy reaches its slot finds no md there and runs none of
     * the function's programs, though the md was published throughout.
     */
    PADDING_MD_ARRAY_PUBLISH_BEFORE_COPY,
    /**
     * The padding md index frees the array it replaced when it grows at once ({@code kfree} where
     * {@code kfree_rcu} was meant): a caller that loaded the old array before the new one was
     * published reads its md from freed memory.
     */
    PADDING_MD_ARRAY_FREE_AT_ONCE,
    /**
     * {@code kfunc_md_put} gives the md's slot of the padding index back as soon as it has poked the
     * NOPs over the function's {@code mov $slot, %eax}, instead of when the md is freed after its
     * grace periods, as if no caller could hold the index once the padding no longer names it: the
     * next md created takes the slot, and a caller that decoded the old index before the NOPs finds
     * another function's md there and runs its programs.
     */
    PADDING_SLOT_FREED_AT_UNPUBLISH,
    /**
     * {@code RcuLongHashTable}'s resize moves the existing nodes into the new buckets by rewriting
     * their {@code next}, as a rehash of a table without readers would, instead of filling the new
     * array with copies: a lookup walking an old chain follows a moved node into another chain and
     * misses a key that was present throughout.
     */
    RCU_TABLE_RESIZE_IN_PLACE,
    /**
     * {@code RcuLongHashTable}'s remove unlinks a node and then clears its {@code next}, as
     * {@code hlist_del} (poisoning {@code next}) does where {@code hlist_del_rcu} must leave it: a
     * lookup standing on the removed node ends its walk there and misses the keys behind it.
     */
    RCU_TABLE_DEL_CLEARS_NEXT,
    /**
     * {@code RcuLongHashTable}'s resize frees the replaced bucket array at once ({@code kfree} where
     * {@code kfree_rcu} was meant), while a lookup that loaded it before the publish may still walk it.
     */
    RCU_TABLE_FREE_ARRAY_AT_ONCE
}
