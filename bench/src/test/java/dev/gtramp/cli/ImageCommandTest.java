package dev.gtramp.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code gtramp image} as a user runs it, through the same picocli setup as {@code bin/gtramp}. */
class ImageCommandTest {

    private record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = GtrampCommand.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void jsonSummaryHasTheRealKernelsFacts() {
        Run r = run("image", "--json");
        assertEquals(0, r.exit(), r.err());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals(56_331, o.get("btfFunctions").getAsInt());
        assertEquals(1_119, o.get("btfFunctionsOver6Params").getAsInt());
        assertEquals(55_234, o.get("btfAndKallsyms").getAsInt());
        int traceable = o.get("traceable").getAsInt();
        assertEquals(traceable, o.getAsJsonObject("decisions").getAsJsonObject("TRACEABLE").get("count").getAsInt());
        assertTrue(o.getAsJsonObject("argRegsHistogram").has("6"));
    }

    @Test
    void textSummaryShowsCountsDecisionsAndHistograms() {
        Run r = run("image");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("BTF functions                  56,331"), r.out());
        assertTrue(r.out().contains("in BTF and kallsyms            55,234"), r.out());
        assertTrue(r.out().contains("NOINSTR_TEXT"), r.out());
        assertTrue(r.out().contains("argument registers"), r.out());
    }

    @Test
    void matchListsFunctionsAndJsonCountsThem() {
        Run r = run("image", "--match", "bpf_fentry_test?");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("int bpf_fentry_test2(int a, u64 b)"), r.out());
        assertTrue(r.out().contains("9 traceable functions match bpf_fentry_test?"), r.out());
        Run j = run("image", "--match", "bpf_fentry_test*", "--deny", "*_sinfo", "--json");
        assertEquals(10, JsonParser.parseString(j.out()).getAsJsonObject().get("count").getAsInt());
    }

    @Test
    void functionShowsItsPrototypeAndDecision() {
        Run r = run("image", "--function", "bpf_modify_return_test2", "--json");
        assertEquals(0, r.exit(), r.err());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        // BTF names the type "short int", as the compiler spelled it.
        assertEquals("int bpf_modify_return_test2(int a, int *b, short int c, int d, void *e, char f, int g)",
                o.get("prototype").getAsString());
        assertEquals(7, o.get("argRegs").getAsInt());
        assertEquals("TRACEABLE", o.get("decision").getAsString());
    }

    @Test
    void badInputIsOneLineNamingTheCulprit() {
        Run r = run("image", "--function", "no_such_function");
        assertEquals(1, r.exit());
        assertEquals("gtramp image: ENOENT: no function no_such_function in image linux-6.18.44-x86_64",
                r.err().strip());
        r = run("image", "--match", "");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("EINVAL: empty function pattern"), r.err());
        r = run("image", "--synthetic", "0");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("synthetic image size 0"), r.err());
    }

    @Test
    void helpIsAvailableEverywhere() {
        assertEquals(0, run("--help").exit());
        Run r = run("image", "--help");
        assertEquals(0, r.exit());
        assertTrue(r.out().contains("--json"));
        assertEquals(0, run("image", "snapshot", "--help").exit());
    }
}
