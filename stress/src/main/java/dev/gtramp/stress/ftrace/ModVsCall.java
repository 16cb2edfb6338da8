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
 * <b>{@code update_ftrace_direct_mod}: a caller of the function sees the old trampoline or the new
 * one, never neither.</b>
 *
 * <pre>
 *   cpu 0                                   writer
 *   until the update is over, calls:        wait for cpu 0's calls
 *     r = f()   (tramp A: 1, tramp B: 2)    update_ftrace_direct_mod(direct_ops, {f: B})
 *   r = f()                                   register tmp_ops on f: ftrace_call = list func,
 *                                               f's site: call A -&gt; call ftrace_regs_caller
 *                                             direct_functions[f] = B   (in place)
 *                                             unregister tmp_ops: f's site -&gt; call B,
 *                                               ftrace_call = call_direct_funcs
 * </pre>
 *
 * {@code direct_ops} carries {@code f} on A and another function, {@code g}, on A, from before the
 * trial. The mod moves {@code f} to B without a moment in which {@code f} runs no trampoline: a
 * static stub ops on {@code f} makes the site go through {@code ftrace_regs_caller} and the list
 * function, whose {@code call_direct_funcs} looks {@code f} up in {@code direct_functions} on every
 * call; the entry is switched to B in place, and removing the stub patches the site straight to
 * {@code call B}. Each of the two site patches is an int3 batch, as in {@link AddVsCall}.
 *
 * <p>The hazard: a call that runs neither trampoline (the body alone, because the site or the list
 * function found no direct entry), that goes back to A after B, or that executes a torn site.
 *
 * <p>Paired with {@link FtraceDirectModNoStubBroken}
 * ({@link UnsafeVariant#DIRECT_MOD_WITHOUT_STUB_OPS}): the entry is changed in place without the
 * stub ops, so {@code f}'s record never changes, nothing re-patches its site, and it keeps calling A
 * after the update ({@code r2 = 0}). That is why the kernel registers the stub. A torn patch cannot
 * happen here: both patches change a {@code call}'s operand only, which the model writes in one
 * store; {@link FtraceDirectAddNoInt3Broken} and {@link FtraceDirectDelNoInt3Broken} catch the torn
 * patch, {@link FtraceDirectHashFreeBroken} an early free of {@code direct_functions}.
 *
 * <p>Outcomes {@code (r1, r2)}: {@code r1} is what CPU 0's calls ran while the update was under way,
 * {@code r2} what its call after the update ran (see {@link SiteSwitch}).
 * <ul>
 *   <li>{@code 0, 1}, {@code 1, 1}, {@code 2, 1}: A only, A then B, or B only; after the update, B;</li>
 *   <li>{@code 5, *}: FORBIDDEN, a call ran neither trampoline (or faulted otherwise);</li>
 *   <li>{@code 3, *}: FORBIDDEN, a call ran A after one had run B;</li>
 *   <li>{@code *, 9}: FORBIDDEN, an otherwise acceptable trial left residue once everything was
 *       detached and every callback had run (live objects, callbacks, patched sites, direct entries
 *       or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN (a torn instruction ({@code 4}), A after the update
 *       ({@code r2 = 0}), or the update did not return within 5 s ({@code 7})).</li>
 * </ul>
 */
@Description("update_ftrace_direct_mod: a caller sees the old or the new trampoline, never neither")
@Outcome(id = {"0, 1", "1, 1", "2, 1"}, expect = ACCEPTABLE, desc = "tramp A, then tramp B; B after the update")
@Outcome(id = ".*, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "5, .*", expect = FORBIDDEN, desc = "a call ran neither trampoline, or faulted")
@Outcome(id = "3, .*", expect = FORBIDDEN, desc = "a call ran tramp A after one had run tramp B")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "torn (4), tramp A after the update, or stuck (7)")
public abstract class ModVsCall extends SiteSwitch {
    ModVsCall(Set<UnsafeVariant> unsafe) {
        super(SMALL_IMAGE, unsafe, BODY + 1, BODY + 2);
        KernelFunction g = kernel.functions().get(1);
        attach(f, TRAMP_A);
        attach(g, TRAMP_A);
        settle();
        setupDone();
    }

    @Override
    final void update() {
        FtraceHash h = hashOf(f, TRAMP_B);
        ftrace.updateFtraceDirectMod(ops, h, true);
        ftrace.freeHash(h);
    }
}
