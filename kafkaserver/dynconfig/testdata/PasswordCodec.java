import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

// Encodes and decodes a broker password config the way Kafka's stored format describes it, with the JDK's own
// key factories and ciphers, to check the Go encoder against them. Passwords travel as base64 of their UTF-8.
//   encode <secret> <password b64> <key factory> <cipher> <key length> <iterations>
//   decode <secret> <encoded>
public class PasswordCodec {
    static SecretKeySpec key(String secret, String factory, String cipher, int bits, byte[] salt, int iterations)
            throws Exception {
        byte[] k = SecretKeyFactory.getInstance(factory)
                .generateSecret(new PBEKeySpec(secret.toCharArray(), salt, iterations, bits)).getEncoded();
        return new SecretKeySpec(k, cipher.split("/")[0]);
    }

    public static void main(String[] args) throws Exception {
        Base64.Encoder b64 = Base64.getEncoder();
        Base64.Decoder unb64 = Base64.getDecoder();
        if (args[0].equals("encode")) {
            String secret = args[1], password = new String(unb64.decode(args[2]), StandardCharsets.UTF_8);
            String factory = args[3], cipherName = args[4];
            int bits = Integer.parseInt(args[5]), iterations = Integer.parseInt(args[6]);
            byte[] salt = new byte[256];
            new SecureRandom().nextBytes(salt);
            Cipher cipher = Cipher.getInstance(cipherName);
            cipher.init(Cipher.ENCRYPT_MODE, key(secret, factory, cipherName, bits, salt, iterations));
            byte[] sealed = cipher.doFinal(password.getBytes(StandardCharsets.UTF_8));
            StringBuilder out = new StringBuilder();
            out.append("passwordLength:").append(password.length())
               .append(",cipherAlgorithm:").append(cipherName)
               .append(",salt:").append(b64.encodeToString(salt))
               .append(",iterations:").append(iterations)
               .append(",keyFactoryAlgorithm:").append(factory)
               .append(",keyLength:").append(bits)
               .append(",encryptedPassword:").append(b64.encodeToString(sealed));
            if (cipherName.contains("/GCM/")) {
                GCMParameterSpec spec = cipher.getParameters().getParameterSpec(GCMParameterSpec.class);
                out.append(",initializationVector:").append(b64.encodeToString(spec.getIV()))
                   .append(",authenticationTagLength:").append(spec.getTLen());
            } else {
                IvParameterSpec spec = cipher.getParameters().getParameterSpec(IvParameterSpec.class);
                out.append(",initializationVector:").append(b64.encodeToString(spec.getIV()));
            }
            System.out.println(out);
            return;
        }
        String secret = args[1];
        Map<String, String> m = new HashMap<>();
        for (String kv : args[2].split("\\s*,\\s*")) {
            int i = kv.lastIndexOf(':');
            m.put(kv.substring(0, i).trim(), kv.substring(i + 1).trim());
        }
        String cipherName = m.get("cipherAlgorithm");
        Cipher cipher = Cipher.getInstance(cipherName);
        SecretKeySpec k = key(secret, m.get("keyFactoryAlgorithm"), cipherName, Integer.parseInt(m.get("keyLength")),
                unb64.decode(m.get("salt")), Integer.parseInt(m.get("iterations")));
        byte[] iv = unb64.decode(m.get("initializationVector"));
        if (cipherName.contains("/GCM/")) {
            cipher.init(Cipher.DECRYPT_MODE, k, new GCMParameterSpec(Integer.parseInt(m.get("authenticationTagLength")), iv));
        } else {
            cipher.init(Cipher.DECRYPT_MODE, k, new IvParameterSpec(iv));
        }
        String password = new String(cipher.doFinal(unb64.decode(m.get("encryptedPassword"))), StandardCharsets.UTF_8);
        if (password.length() != Integer.parseInt(m.get("passwordLength"))) {
            throw new IllegalStateException("length check failed");
        }
        System.out.println(b64.encodeToString(password.getBytes(StandardCharsets.UTF_8)));
    }
}
