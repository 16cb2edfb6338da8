package dev.gtramp.kernel.percpu;

import dev.gtramp.kernel.KernelException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PerCpuTest {

    @Test
    void oneInstancePerCpuInCpuOrder() {
        PerCpu<AtomicInteger> v = new PerCpu<>(3, AtomicInteger::new);
        assertEquals(3, v.cpus());
        assertEquals(0, v.get(0).get());
        assertEquals(2, v.get(2).get());
        assertSame(v.get(1), v.get(1));
        assertNotSame(v.get(0), v.get(1));
        List<Integer> seen = new ArrayList<>();
        v.forEach(x -> seen.add(x.get()));
        assertEquals(List.of(0, 1, 2), seen);
        assertThrows(KernelException.class, () -> v.get(3));
        assertThrows(KernelException.class, () -> v.get(-1));
        assertThrows(KernelException.class, () -> new PerCpu<>(0, AtomicInteger::new));
    }
}
