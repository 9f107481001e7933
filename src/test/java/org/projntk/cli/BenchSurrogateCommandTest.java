package org.projntk.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchSurrogateCommandTest {
    @Test
    void printsOneJsonLinePerKernelAndSizeWithBothPathsAgreeing() throws Exception {
        StringWriter sw = new StringWriter();
        CommandLine cl = new CommandLine(new BenchSurrogateCommand());
        cl.setOut(new PrintWriter(sw));
        int rc = cl.execute("--N", "150,300", "--T", "40", "--K", "24", "--C", "3", "--kernel", "pntk,trntk", "--iterations", "5");
        assertEquals(0, rc);
        String[] lines = sw.toString().strip().split("\n");
        assertEquals(4, lines.length);
        JsonNode j = new ObjectMapper().readTree(lines[3]);
        assertEquals("trntk", j.get("kernel").asText());
        assertEquals(300, j.get("N").asInt());
        assertTrue(j.get("speedup").asDouble() > 0);
        assertEquals(j.get("dense_evaluations").asInt(), j.get("matrix_free_evaluations").asInt(), 3);
    }

    @Test
    void rejectsBadOptions() {
        CommandLine cl = new CommandLine(new BenchSurrogateCommand());
        cl.setErr(new PrintWriter(new StringWriter()));
        assertNotEquals(0, cl.execute("--kernel", "entk", "--N", "100", "--K", "8"));
        assertNotEquals(0, cl.execute("--C", "1"));
    }
}
