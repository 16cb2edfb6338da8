package dev.gtramp.kernel.percpu;

import dev.gtramp.kernel.KernelException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PerCpuArenaTest {

    @Test
    void eachCpuHasItsOwnSlotAndSumsAddUp() {
        PerCpuArena arena = new PerCpuArena(4);
        PerCpuLong v = arena.allocLong();
        v.add(0, 5);
        v.add(1, -2);
        v.add(3, 10);
        assertEquals(5, v.get(0));
        assertEquals(-2, v.get(1));
        assertEquals(0, v.get(2));
        assertEquals(13, v.sum());
        v.zero();
        assertEquals(0, v.sum());
    }

    @Test
    void freedSlotsAreReusedZeroedAndChunksGrow() {
        PerCpuArena arena = new PerCpuArena(2);
        List<PerCpuLong> vs = new ArrayList<>();
        for (int i = 0; i < PerCpuArena.CHUNK_SLOTS + 10; i++) {
            PerCpuLong v = arena.allocLong();
            v.add(i % 2, i);
            vs.add(v);
        }
        assertEquals(PerCpuArena.CHUNK_SLOTS + 10, arena.liveVariables());
        assertEquals(2L * 2 * (PerCpuArena.PAD + PerCpuArena.CHUNK_SLOTS + PerCpuArena.PAD) * Long.BYTES,
                arena.reservedBytes(), "two chunks of two CPUs");
        for (int i = 0; i < vs.size(); i++) {
            assertEquals(i, vs.get(i).sum(), "variables do not overlap");
        }
        // Slot 7 is reused once it leaves the quarantine, after QUARANTINE_SLOTS later frees.
        for (int i = 7; i <= 7 + PerCpuArena.QUARANTINE_SLOTS; i++) {
            vs.get(i).free();
        }
        PerCpuLong reused = arena.allocLong();
        assertEquals(vs.get(7).slot(), reused.slot());
        assertEquals(0, reused.sum(), "a reused slot starts at zero");
        assertEquals(PerCpuArena.CHUNK_SLOTS + 10 - PerCpuArena.QUARANTINE_SLOTS, arena.liveVariables());
        assertThrows(KernelException.class, () -> vs.get(7).free());
    }

    @Test
    void anArenaNeedsACpu() {
        assertThrows(KernelException.class, () -> new PerCpuArena(0));
        assertTrue(new PerCpuArena(1).reservedBytes() == 0);
    }
}
