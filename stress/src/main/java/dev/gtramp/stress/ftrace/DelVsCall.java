package dev.gtramp.stress.ftrace;

import dev.gtramp.ftrace.FtraceHash;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.Residue;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>{@code update_ftrace_direct_del}: a caller of the function sees the trampoline or the NOP,
 * never a torn instruction.</b>
 *
 * <pre>
 *   cpu 0                                   writer
 *   until the update is over, calls:        wait for cpu 0's calls
 *     r = f()   (tramp A: 1, body: 0)       update_ftrace_direct_del(direct_ops, {f: A})
 *   r = f()                                   text_poke_bp_batch of f's site:
 *                                               int3; sync; NOP tail; sync; NOP; sync
 * </pre>
 *
 * {@code direct_ops} carries {@code f} and another function, {@code g}, both on A, from before the
 * trial. The del detaches {@code f} only, so the ops stays registered: its filter is replaced
 * through {@code ftrace_update_ops} (the old one freed by {@code call_rcu}), {@code f}'s site is
 * patched from {@code call A} back to the 5-byte NOP, and then {@code direct_functions} loses
 * {@code f} (the old table freed by {@code call_rcu_tasks}). Deleting an ops' last function would
 * unregister it and, for a static ops, free its filter at once; the test keeps {@code g} so that it
 * is about the site alone. The callbacks run in the arbiter: no call path of this test reads either
 * old hash ({@code f}'s site calls A directly, not through the list function).
 *
 * <p>The hazard is {@link AddVsCall}'s in reverse: without the int3 a CPU can fetch the NOP's first
 * byte followed by A's operand bytes.
 *
 * <p>Outcomes {@code (r1, r2)}: {@code r1} is what CPU 0's calls ran while the update was under way,
 * {@code r2} what its call after the update ran (see {@link SiteSwitch}).
 * <ul>
 *   <li>{@code 0, 1}, {@code 1, 1}, {@code 2, 1}: A only, A then the body, or the body only; after
 *       the update, the body;</li>
 *   <li>{@code 4, *}: FORBIDDEN, a call executed a torn instruction (an oops);</li>
 *   <li>{@code 3, *}: FORBIDDEN, a call ran A after one had run the body;</li>
 *   <li>{@code *, 9}: FORBIDDEN, an otherwise acceptable trial left residue once everything was
 *       detached and every callback had run (live objects, callbacks, patched sites, direct entries
 *       or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN (after the update a call still ran A ({@code r2 = 0}), a call
 *       returned something neither ran or faulted otherwise ({@code 5}), or the update did not
 *       return within 5 s ({@code 7})).</li>
 * </ul>
 * Paired with {@link FtraceDirectDelNoInt3Broken}, which must show {@code 4, *}.
 */
@Description("update_ftrace_direct_del: a caller sees the trampoline or the NOP, never a torn instruction")
@Outcome(id = {"0, 1", "1, 1", "2, 1"}, expect = ACCEPTABLE, desc = "tramp A, then the body; the body after the update")
@Outcome(id = ".*, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "4, .*", expect = FORBIDDEN, desc = "a call executed a torn instruction")
@Outcome(id = "3, .*", expect = FORBIDDEN, desc = "a call ran tramp A after one had run the body")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "tramp A after the update, neither target (5), or stuck (7)")
public abstract class DelVsCall extends SiteSwitch {
    DelVsCall(Set<UnsafeVariant> unsafe) {
        super(SMALL_IMAGE, unsafe, BODY + 1, BODY);
        KernelFunction g = kernel.functions().get(1);
        attach(f, TRAMP_A);
        attach(g, TRAMP_A);
        settle();
        setupDone();
    }

    @Override
    final void update() {
        FtraceHash h = hashOf(f, TRAMP_A);
        ftrace.updateFtraceDirectDel(ops, h);
        ftrace.freeHash(h);
    }
}
