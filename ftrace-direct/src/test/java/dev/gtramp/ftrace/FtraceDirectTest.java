package dev.gtramp.ftrace;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FtraceDirectTest {
    private Kernel kernel;
    private Ftrace ftrace;
    private KernelFunction test1;
    private KernelFunction test2;

    /** A direct trampoline that adds {@code delta} to the origin's return value. */
    record Tramp(String name, long delta) implements CallTarget {
        @Override
        public long enter(dev.gtramp.kernel.Frame frame) {
            return frame.callOrigin() + delta;
        }
    }

    @BeforeEach
    void boot() {
        kernel = Kernel.boot(KernelImage.linux618());
        ftrace = Ftrace.of(kernel);
        test1 = kernel.function("bpf_fentry_test1");
        test2 = kernel.function("bpf_fentry_test2");
    }

    @AfterEach
    void close() {
        kernel.close();
    }

    private long call1() {
        try (Cpu cpu = kernel.bindCpu(0)) {
            return cpu.call(test1, 1);
        }
    }

    @Test
    void classicRegisterModifyUnregister() {
        Tramp a = new Tramp("a", 100);
        Tramp b = new Tramp("b", 200);
        FtraceOps ops = FtraceOps.direct("tramp1", null);
        ftrace.setFilterIp(ops, test1.ip(), false, false);
        assertEquals(2, call1());
        ftrace.registerFtraceDirect(ops, a);
        assertSame(a, test1.site().read());
        assertEquals(102, call1());
        FtraceCosts before = ftrace.costs();
        ftrace.modifyFtraceDirect(ops, b);
        FtraceCosts mod = ftrace.costs().minus(before);
        assertSame(b, test1.site().read());
        assertEquals(202, call1());
        // Two patches of one site (to the regs caller and back to the new target), 3 syncs each,
        // plus the ftrace_call updates: list func in, and back out to nothing else.
        assertEquals(2, mod.get(Cost.SITES_PATCHED), mod.toString());
        before = ftrace.costs();
        ftrace.unregisterFtraceDirect(ops, b, true);
        FtraceCosts unreg = ftrace.costs().minus(before);
        assertNull(test1.site().read());
        assertEquals(2, call1());
        assertEquals(1, unreg.get(Cost.GRACE_PERIODS_TASKS), unreg.toString());
        assertEquals(1, unreg.get(Cost.GRACE_PERIODS_TASKS_RUDE), unreg.toString());
        assertEquals(0, ftrace.directFunctionCount());
    }

    @Test
    void singleOpsAddModDel() {
        Tramp a = new Tramp("a", 100);
        Tramp b = new Tramp("b", 200);
        FtraceOps ops = FtraceOps.staticDirect("direct_ops", null);
        FtraceHash h = ftrace.allocHash(2);
        h.add(test1.ip(), a);
        h.add(test2.ip(), a);
        ftrace.updateFtraceDirectAdd(ops, h);
        assertEquals(102, call1());
        assertSame(a, test2.site().read());
        FtraceHash m = ftrace.allocHash(2);
        m.add(test1.ip(), b);
        ftrace.updateFtraceDirectMod(ops, m, true);
        assertEquals(202, call1());
        assertSame(a, test2.site().read());
        FtraceHash d = ftrace.allocHash(2);
        d.add(test1.ip(), a);
        KernelException e = assertThrows(KernelException.class, () -> ftrace.updateFtraceDirectDel(ops, d));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains("bpf_fentry_test1"), e.getMessage());
        assertEquals(202, call1());
        ftrace.freeHash(d);
        FtraceHash d2 = ftrace.allocHash(2);
        d2.add(test1.ip(), b);
        FtraceCosts before = ftrace.costs();
        ftrace.updateFtraceDirectDel(ops, d2);
        assertEquals(2, call1());
        assertSame(a, test2.site().read());
        FtraceHash d3 = ftrace.allocHash(2);
        d3.add(test2.ip(), a);
        ftrace.updateFtraceDirectDel(ops, d3);
        FtraceCosts del = ftrace.costs().minus(before);
        assertNull(test2.site().read());
        assertEquals(0, del.get(Cost.GRACE_PERIODS_TASKS), "a static ops unregisters without grace periods: " + del);
        assertTrue(ftrace.enabledRecords().isEmpty(), ftrace.enabledRecords().toString());
        for (FtraceHash x : List.of(h, m, d2, d3)) {
            ftrace.freeHash(x);
        }
    }

    @Test
    void tracerAndDirectShareASiteThroughTheListFunction() {
        Tramp a = new Tramp("a", 100);
        FtraceOps ops = FtraceOps.staticDirect("direct_ops", null);
        FtraceHash h = ftrace.allocHash(2);
        h.add(test1.ip(), a);
        ftrace.updateFtraceDirectAdd(ops, h);
        List<Long> seen = new ArrayList<>();
        FtraceOps tracer = FtraceOps.callback("tracer", (ip, pip, op, r) -> seen.add(ip), 0);
        ftrace.setFilterIp(tracer, test1.ip(), false, false);
        ftrace.registerFtraceFunction(tracer);
        assertSame(ftrace.ftraceRegsCaller(), test1.site().read());
        assertEquals(102, call1());
        assertEquals(List.of(test1.ip()), seen);
        ftrace.unregisterFtraceFunction(tracer);
        assertSame(a, test1.site().read());
        assertEquals(102, call1());
        assertEquals(1, seen.size());
    }

    @Test
    void noPatchSiteIsEinvalNamingTheFunction() {
        FtraceOps ops = FtraceOps.direct("x", null);
        long ip = kernel.image().functions().stream().filter(f -> f.hasAddress() && !f.isTraceable()).findFirst().orElseThrow().ip();
        KernelException e = assertThrows(KernelException.class, () -> ftrace.setFilterIp(ops, ip, false, false));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains("not traceable"), e.getMessage());
    }
}
