package dev.gtramp.study;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading cost tables: a bad one is refused with an error naming the field. */
class CostModelTest {
    private static final String EVENT = "{\"event\": \"ftrace.text_pokes\", \"unitNs\": 2000, \"uncertainty\": 2,"
            + " \"fitted\": false, \"source\": \"a measurement\"}";

    private static String table(String events, String extra) {
        return "{\"name\": \"t\", \"version\": 1, \"description\": \"d\", \"events\": [" + events + "]" + extra + "}";
    }

    private static KernelException refused(String json) {
        return assertThrows(KernelException.class, () -> CostModel.parse(new StringReader(json), "t.json"));
    }

    @Test
    void aWellFormedTablePricesEventsAndFamilies() {
        CostModel m = CostModel.parse(new StringReader(table(EVENT + ", {\"event\": \"alloc.*\", \"unitNs\": 100,"
                + " \"uncertainty\": 3, \"fitted\": false, \"source\": \"s\"}", "")), "t.json");
        assertEquals(2e-6 * 3 + 1e-7 * 5, m.seconds(Map.of("ftrace.text_pokes", 3L, "alloc.kfunc_md", 5L), null), 1e-15);
    }

    @Test
    void aMissingFieldIsNamedWithItsEntry() {
        KernelException e = refused(table(EVENT.replace("\"unitNs\": 2000, ", ""), ""));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains("events[0] (ftrace.text_pokes).unitNs is missing"), e.getMessage());
        assertTrue(refused("{\"name\": \"t\", \"version\": 1, \"events\": []}").getMessage().contains("description is missing"));
    }

    @Test
    void badValuesAreNamed() {
        assertTrue(refused(table(EVENT.replace("2000", "-1"), "")).getMessage()
                .contains("events[0] (ftrace.text_pokes).unitNs must be a non-negative number"));
        assertTrue(refused(table(EVENT.replace("\"uncertainty\": 2", "\"uncertainty\": 0.5"), "")).getMessage()
                .contains("uncertainty is a factor of at least 1"));
        assertTrue(refused(table(EVENT + "," + EVENT, "")).getMessage().contains("events[1] (ftrace.text_pokes).event is listed twice"));
        String fitted = EVENT.replace("false", "true");
        assertTrue(refused(table(fitted + "," + fitted.replace("text_pokes", "core_syncs") + ","
                + fitted.replace("text_pokes", "sync_ipis"), "")).getMessage().contains("at most two free parameters"));
        assertTrue(refused("{\"name\": 1").getMessage().contains("is not valid JSON"));
    }

    @Test
    void publishedEntriesMustNameKnownErasToolsPhasesAndRoles() {
        String pub = ", \"published\": [{\"id\": \"p\", \"what\": \"w\", \"design\": \"classic\", \"functions\": 1,"
                + " \"select\": \"1\", \"phases\": [\"attach\"], \"era\": \"ERA\", \"tool\": TOOL, \"seconds\": 1,"
                + " \"role\": \"ROLE\", \"source\": \"s\"}]";
        assertTrue(refused(table(EVENT, pub.replace("ERA", "old").replace("TOOL", "null").replace("ROLE", "fitted")))
                .getMessage().contains("published[0] (p).era names old, which eras[] does not list"));
        assertTrue(refused(table(EVENT, pub.replace("\"ERA\"", "null").replace("TOOL", "\"perf\"").replace("ROLE", "fitted")))
                .getMessage().contains("published[0] (p).tool names perf"));
        assertTrue(refused(table(EVENT, pub.replace("\"ERA\"", "null").replace("TOOL", "null").replace("ROLE", "guessed")))
                .getMessage().contains("published[0] (p).role is 'guessed'"));
        assertTrue(refused(table(EVENT, pub.replace("\"ERA\"", "null").replace("TOOL", "null").replace("ROLE", "fitted")
                .replace("[\"attach\"]", "[\"boot\"]"))).getMessage().contains("published[0] (p).phases has 'boot'"));
    }

    @Test
    void anEventTheTableDoesNotPriceIsNamed() {
        CostModel m = CostModel.parse(new StringReader(table(EVENT, "")), "t.json");
        KernelException e = assertThrows(KernelException.class, () -> m.seconds(Map.of("free.kfunc_md", 1L), null));
        assertTrue(e.getMessage().contains("no unit cost for the counted event free.kfunc_md"), e.getMessage());
        assertTrue(e.getMessage().contains("free.*"), e.getMessage());
    }

    @Test
    void filesAreReadAndAMissingOneIsENOENT(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("costs.json");
        Files.writeString(f, table(EVENT, ""));
        assertEquals("t", CostModel.read(f).table().name());
        assertEquals(Errno.ENOENT, assertThrows(KernelException.class, () -> CostModel.read(dir.resolve("none.json"))).errno());
    }

    @Test
    void theCommittedTablePricesEveryEventTheDesignsCount() {
        CostModel m = CostModel.committed();
        for (String e : new String[] {"ftrace.text_pokes", "ftrace.grace_periods_tasks_rude", "rcu.call_rcu",
            "alloc.kfunc_md", "free.bpf_tramp_image", "bpf.prog_load", "bpf.link_create"}) {
            assertTrue(m.unitOf(e) != null, e);
        }
    }
}
