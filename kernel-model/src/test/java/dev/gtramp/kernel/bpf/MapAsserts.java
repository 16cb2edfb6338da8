package dev.gtramp.kernel.bpf;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import org.junit.jupiter.api.function.Executable;

import java.util.BitSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Assertions on the errors maps throw. */
final class MapAsserts {
    private MapAsserts() {
    }

    /**
     * Asserts that {@code call} throws a {@link KernelException} with {@code errno} whose message
     * names the map (its type and name) and contains {@code detail}, e.g. the key.
     */
    static KernelException assertMapError(Errno errno, BpfMap map, String detail, Executable call) {
        KernelException e = assertThrows(KernelException.class, call);
        assertEquals(errno, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains(map.type().kernelName() + " '" + map.name() + "'"), e.getMessage());
        assertTrue(e.getMessage().contains(detail), e.getMessage());
        return e;
    }

    /** Asserts that {@code call} fails with {@code errno} and a message naming {@code name}. */
    static void assertCreateError(Errno errno, String name, Executable call) {
        KernelException e = assertThrows(KernelException.class, call);
        assertEquals(errno, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains("'" + name + "'"), e.getMessage());
    }

    /**
     * Asserts that the old values {@code fetchAdd(key, 1)} returned on each CPU are, together, each
     * of {@code 0 .. total-1} exactly once: no add was lost or applied twice.
     */
    static void assertEachOldValueOnce(long[][] olds, int total) {
        BitSet seen = new BitSet(total);
        for (long[] mine : olds) {
            for (long old : mine) {
                assertFalse(seen.get((int) old), "old value " + old + " returned twice");
                seen.set((int) old);
            }
        }
        assertEquals(total, seen.cardinality());
        assertEquals(total, seen.nextClearBit(0), "the old values are exactly 0 .. total-1");
    }
}
