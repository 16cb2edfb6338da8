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
 * <b>{@code update_ftrace_direct_add}: a caller of the function sees the NOP or the new
 * trampoline, never a torn instruction.</b>
 *
 * <pre>
 *   cpu 0                                   writer
 *   until the update is over, calls:        wait for cpu 0's calls
 *     r = f()   (body: 0, tramp A: 1)       update_ftrace_direct_add(direct_ops, {f: A})
 *   r = f()                                   text_poke_bp_batch of f's site:
 *                                               int3; sync; operand A; sync; call; sync
 * </pre>
 *
 * {@code direct_ops} is registered before the trial with another function, {@code g}, attached to
 * A, so the add is the batch API's steady state: {@code direct_functions} gains {@code f} first,
 * then the ops' filter, and {@code f}'s site is patched from the 5-byte NOP to {@code call A}.
 * CPU 0 calls {@code f} back to back from before the update until after it returned, and once more.
 *
 * <p>The hazard: the site's first byte and its operand are written separately, and a CPU fetches
 * the first byte and then the operand. The int3 protocol keeps every CPU on the old instruction or
 * the new one: while the operand changes, the first byte is an int3 whose handler emulates the new
 * instruction, and the final first byte is written only after every CPU has synced on the new
 * operand. Without the int3 a CPU can fetch {@code call} followed by the NOP's tail bytes (a call
 * into garbage).
 *
 * <p>Outcomes {@code (r1, r2)}: {@code r1} is what CPU 0's calls ran while the update was under way,
 * {@code r2} what its call after the update ran (see {@link SiteSwitch}).
 * <ul>
 *   <li>{@code 0, 1}, {@code 1, 1}, {@code 2, 1}: the body only, the body then A, or A only; after
 *       the update, A;</li>
 *   <li>{@code 4, *}: FORBIDDEN, a call executed a torn instruction (an oops);</li>
 *   <li>{@code 3, *}: FORBIDDEN, a call ran the body after one had run A;</li>
 *   <li>{@code *, 9}: FORBIDDEN, an otherwise acceptable trial left residue once everything was
 *       detached and every callback had run (live objects, callbacks, patched sites, direct entries
 *       or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN (after the update a call still ran the body ({@code r2 = 0}), a
 *       call returned something neither ran or faulted otherwise ({@code 5}), or the update did not
 *       return within 5 s ({@code 7})).</li>
 * </ul>
 * Paired with {@link FtraceDirectAddNoInt3Broken}, which must show {@code 4, *}.
 */
@Description("update_ftrace_direct_add: a caller sees the NOP or the new trampoline, never a torn instruction")
@Outcome(id = {"0, 1", "1, 1", "2, 1"}, expect = ACCEPTABLE, desc = "the body, then tramp A; A after the update")
@Outcome(id = ".*, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "4, .*", expect = FORBIDDEN, desc = "a call executed a torn instruction")
@Outcome(id = "3, .*", expect = FORBIDDEN, desc = "a call ran the body after one had run tramp A")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "the body after the update, neither target (5), or stuck (7)")
public abstract class AddVsCall extends SiteSwitch {
    AddVsCall(Set<UnsafeVariant> unsafe) {
        super(SMALL_IMAGE, unsafe, BODY, BODY + 1);
        KernelFunction g = kernel.functions().get(1);
        attach(g, TRAMP_A);
        settle();
        setupDone();
    }

    @Override
    final void update() {
        FtraceHash h = hashOf(f, TRAMP_A);
        ftrace.updateFtraceDirectAdd(ops, h);
        ftrace.freeHash(h);
    }
}
