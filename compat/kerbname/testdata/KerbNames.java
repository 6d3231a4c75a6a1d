// KerbNames runs zkafka's kerbname test table through Apache's own classes, for the differential test in
// kerbname_java_test.go (compiled there at test time against zookeeper.jar and Kafka 0.9's clients jar).
//
// stdin: one case a line, fields hex-encoded UTF-8, separated by spaces:
//   Z realm rules name          ZooKeeper's KerberosName with zookeeper.security.auth_to_local = rules
//   K realm name n rule1..ruleN Kafka's KerberosShortNamer.fromUnparsedRules(realm, [rules]) (n = -1: null)
//   P name                      both KerberosName parsers: service|host|realm (null as "-")
//   R pattern input repl g      Pattern.matcher(input).replaceAll (g = 1) or replaceFirst (g = 0)
// stdout: one line a case: "ok <hex result>" or "err <exception class> <hex message>".
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

public class KerbNames {
    public static void main(String[] args) throws Exception {
        Class<?> zk = Class.forName("org.apache.zookeeper.server.auth.KerberosName");
        Method parseRules = zk.getDeclaredMethod("parseRules", String.class);
        parseRules.setAccessible(true);
        Field rulesField = zk.getDeclaredField("rules");
        rulesField.setAccessible(true);
        Field realmField = zk.getDeclaredField("defaultRealm");
        realmField.setAccessible(true);

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split(" ", -1);
            try {
                String out;
                switch (f[0]) {
                    case "Z": {
                        realmField.set(null, unhex(f[1]));
                        rulesField.set(null, parseRules.invoke(null, unhex(f[2])));
                        out = new org.apache.zookeeper.server.auth.KerberosName(unhex(f[3])).getShortName();
                        break;
                    }
                    case "K": {
                        int n = Integer.parseInt(f[3]);
                        List<String> rules = n < 0 ? null : new ArrayList<>();
                        for (int i = 0; i < n; i++) {
                            rules.add(unhex(f[4 + i]));
                        }
                        org.apache.kafka.common.security.kerberos.KerberosShortNamer namer =
                            org.apache.kafka.common.security.kerberos.KerberosShortNamer.fromUnparsedRules(unhex(f[1]), rules);
                        out = namer.shortName(org.apache.kafka.common.security.kerberos.KerberosName.parse(unhex(f[2])));
                        break;
                    }
                    case "P": {
                        String name = unhex(f[1]);
                        org.apache.kafka.common.security.kerberos.KerberosName k =
                            org.apache.kafka.common.security.kerberos.KerberosName.parse(name);
                        org.apache.zookeeper.server.auth.KerberosName z = new org.apache.zookeeper.server.auth.KerberosName(name);
                        String kafka = k.serviceName() + "|" + nul(k.hostName()) + "|" + nul(k.realm()) + "|" + k;
                        String zoo = z.getServiceName() + "|" + nul(z.getHostName()) + "|" + nul(z.getRealm()) + "|" + z;
                        out = kafka.equals(zoo) ? kafka : "DIFFERENT " + kafka + " " + zoo;
                        break;
                    }
                    case "R": {
                        java.util.regex.Matcher m = Pattern.compile(unhex(f[1])).matcher(unhex(f[2]));
                        out = f[4].equals("1") ? m.replaceAll(unhex(f[3])) : m.replaceFirst(unhex(f[3]));
                        break;
                    }
                    default:
                        throw new IllegalStateException("unknown case " + f[0]);
                }
                System.out.println("ok " + hex(out));
            } catch (Throwable t) {
                while ((t instanceof InvocationTargetException || t instanceof ExceptionInInitializerError)
                        && t.getCause() != null) {
                    t = t.getCause();
                }
                String msg = t.getMessage() == null ? "" : t.getMessage();
                System.out.println("err " + t.getClass().getSimpleName() + " " + hex(msg));
            }
        }
    }

    static String nul(String s) {
        return s == null ? "-" : s;
    }

    static String unhex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return new String(b, StandardCharsets.UTF_8);
    }

    static String hex(String s) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
            b.append(String.format("%02x", x & 0xff));
        }
        return b.toString();
    }
}
