package dev.gtramp.ftrace;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The error paths of the direct APIs and of IPMODIFY sharing, with the culprit named. */
class FtraceErrorsTest {
    private static final KernelImage IMAGE = KernelImage.synthetic(32, 3);
    private final Kernel kernel = Kernel.boot(IMAGE);
    private final Ftrace ftrace = Ftrace.of(kernel);
    private final List<KernelFunction> fns = kernel.functions().stream().filter(KernelFunction::isTraceable).limit(8).toList();

    record Tramp(String name) implements CallTarget {
        @Override
        public long enter(dev.gtramp.kernel.Frame frame) {
            return frame.callOrigin() + 1000;
        }
    }

    private final Tramp a = new Tramp("A");
    private final Tramp b = new Tramp("B");

    @AfterEach
    void close() {
        kernel.close();
    }

    private static void assertErrno(Errno errno, String culprit, Executable call) {
        KernelException e = assertThrows(KernelException.class, call);
        assertEquals(errno, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains(culprit), "'" + e.getMessage() + "' should name " + culprit);
    }

    private FtraceHash hash(CallTarget t, int... idx) {
        FtraceHash h = ftrace.allocHash(3);
        for (int i : idx) {
            h.add(fns.get(i).ip(), t);
        }
        return h;
    }

    @Test
    void updateFtraceDirectAddErrors() {
        FtraceOps ops = FtraceOps.staticDirect("direct_ops", null);
        assertErrno(Errno.EINVAL, "empty hash", () -> ftrace.updateFtraceDirectAdd(ops, ftrace.allocHash(1)));
        ftrace.updateFtraceDirectAdd(ops, hash(a, 0));
        assertErrno(Errno.EINVAL, fns.get(0).name(), () -> ftrace.updateFtraceDirectAdd(ops, hash(b, 0, 1)));
        assertNull(fns.get(1).site().read(), "a refused add patches nothing");
        FtraceOps other = FtraceOps.staticDirect("other", null);
        assertErrno(Errno.EINVAL, fns.get(0).name(), () -> ftrace.updateFtraceDirectAdd(other, hash(b, 0)));
        FtraceHash noSite = ftrace.allocHash(1);
        long ip = kernel.image().functions().stream().filter(f -> f.hasAddress() && !f.isTraceable()).findFirst()
                .map(f -> f.ip()).orElse(fns.get(0).ip() + 1);
        noSite.add(ip, b);
        assertErrno(Errno.EINVAL, "no patch site", () -> ftrace.updateFtraceDirectAdd(ops, noSite));
    }

    @Test
    void updateFtraceDirectDelAndModErrors() {
        FtraceOps ops = FtraceOps.staticDirect("direct_ops", null);
        assertErrno(Errno.EINVAL, "empty hash", () -> ftrace.updateFtraceDirectDel(ops, ftrace.allocHash(1)));
        assertErrno(Errno.EINVAL, "not a direct ops", () -> ftrace.updateFtraceDirectDel(ops, hash(a, 0)));
        assertErrno(Errno.EINVAL, "not a direct ops", () -> ftrace.updateFtraceDirectMod(ops, hash(a, 0), true));
        ftrace.updateFtraceDirectAdd(ops, hash(a, 0, 1));
        assertErrno(Errno.EINVAL, fns.get(1).name(), () -> ftrace.updateFtraceDirectDel(ops, hash(b, 1)));
        assertErrno(Errno.EINVAL, fns.get(2).name(), () -> ftrace.updateFtraceDirectDel(ops, hash(a, 2)));
        assertSame(a, fns.get(1).site().read());
        // Attached with the same address, but through another ops: the kernel's hash_sub WARN, ENOMEM.
        FtraceOps classic = FtraceOps.direct("classic", null);
        ftrace.setFilterIp(classic, fns.get(3).ip(), false, false);
        ftrace.registerFtraceDirect(classic, a);
        assertErrno(Errno.ENOMEM, fns.get(3).name(), () -> ftrace.updateFtraceDirectDel(ops, hash(a, 3)));
        assertErrno(Errno.EINVAL, "direct_mutex", () -> ftrace.updateFtraceDirectMod(ops, hash(b, 0), false));
    }

    @Test
    void classicErrors() {
        FtraceOps ops = FtraceOps.direct("tramp", null);
        assertErrno(Errno.EINVAL, "empty filter", () -> ftrace.registerFtraceDirect(ops, a));
        ftrace.setFilterIp(ops, fns.get(0).ip(), false, false);
        ftrace.registerFtraceDirect(ops, a);
        assertErrno(Errno.EINVAL, "already", () -> ftrace.registerFtraceDirect(ops, a));
        FtraceOps second = FtraceOps.direct("tramp2", null);
        ftrace.setFilterIp(second, fns.get(0).ip(), false, false);
        assertErrno(Errno.EBUSY, fns.get(0).name(), () -> ftrace.registerFtraceDirect(second, b));
        assertErrno(Errno.ENOENT, fns.get(1).name(), () -> ftrace.setFilterIp(second, fns.get(1).ip(), true, false));
        assertErrno(Errno.EINVAL, "not a direct ops", () -> ftrace.modifyFtraceDirect(second, b));
        try (Kernel other = Kernel.boot(IMAGE)) {
            assertErrno(Errno.EINVAL, "another kernel", () -> Ftrace.of(other).registerFtraceDirect(ops, a));
        }
    }

    @Test
    void ipmodifyUsersNegotiateThroughOpsFunc() {
        long ip = fns.get(0).ip();
        FtraceOps livepatch = FtraceOps.callback("livepatch", (i, p, op, r) -> r.setInstructionPointer(frame -> 77), FtraceOps.SAVE_REGS | FtraceOps.IPMODIFY);
        ftrace.setFilterIp(livepatch, ip, false, false);
        ftrace.registerFtraceFunction(livepatch);
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(77, cpu.callWith(fns.get(0), new long[fns.get(0).argWords()]));
        }
        assertTrue(ftrace.record(ip).orElseThrow().has(DynFtrace.IPMODIFY));
        // A second IPMODIFY user on the same function: EBUSY, and nothing changes.
        FtraceOps livepatch2 = FtraceOps.callback("livepatch2", (i, p, op, r) -> { }, FtraceOps.SAVE_REGS | FtraceOps.IPMODIFY);
        ftrace.setFilterIp(livepatch2, ip, false, false);
        assertErrno(Errno.EBUSY, fns.get(0).name(), () -> ftrace.registerFtraceFunction(livepatch2));
        assertEquals(List.of(livepatch), ftrace.opsList());
        // A direct ops without ops_func cannot share: EBUSY.
        FtraceOps plain = FtraceOps.staticDirect("plain", null);
        assertErrno(Errno.EBUSY, fns.get(0).name(), () -> ftrace.updateFtraceDirectAdd(plain, hash(a, 0)));
        assertEquals(0, ftrace.directFunctionCount(), "the failed add restored direct_functions");
        // One whose ops_func asks to retry (a BPF trampoline that must regenerate with ORIG_STACK).
        List<OpsCmd> asked = new ArrayList<>();
        FtraceOps bpf = FtraceOps.staticDirect("bpf", (op, i, cmd) -> {
            asked.add(cmd);
            return asked.size() == 1 ? -Errno.EAGAIN.code() : 0;
        });
        assertErrno(Errno.EAGAIN, fns.get(0).name(), () -> ftrace.updateFtraceDirectAdd(bpf, hash(a, 0)));
        ftrace.updateFtraceDirectAdd(bpf, hash(a, 0));
        assertEquals(List.of(OpsCmd.ENABLE_SHARE_IPMODIFY_SELF, OpsCmd.ENABLE_SHARE_IPMODIFY_SELF), asked);
        ftrace.unregisterFtraceFunction(livepatch);
        assertEquals(OpsCmd.DISABLE_SHARE_IPMODIFY_PEER, asked.get(asked.size() - 1));
        assertSame(a, fns.get(0).site().read());
    }
}
