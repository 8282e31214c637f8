using System.Text;
using TOEX.Sharing.Sealing;

namespace TOEX.Sharing.Fuzz;

/// <summary>
/// Writes the test keys the targets trust (<c>keys/</c>: the recipient's private key, the broker's and the webhook's
/// public key sets; their private halves are thrown away) and a small seed corpus (<c>corpus/TARGET/</c>): the sample
/// packages, sealed copies of them, signed webhooks, and the key sets themselves. Run again only to replace them all.
/// </summary>
public static class Corpus
{
    public static void Write(string directory)
    {
        var keys = Directory.CreateDirectory(Path.Combine(directory, "keys")).FullName;
        var corpus = Path.Combine(directory, "corpus");
        var work = Directory.CreateTempSubdirectory("toex-fuzz-corpus-").FullName;
        try
        {
            var samples = Directory.GetFiles(Path.Combine(directory, "..", "..", "deploy", "samples"), "*.json").Order(StringComparer.Ordinal).ToList();

            var package = Directory.CreateDirectory(Path.Combine(corpus, FuzzTargets.Package)).FullName;
            foreach (var sample in samples)
            {
                File.Copy(sample, Path.Combine(package, Path.GetFileName(sample)), overwrite: true);
            }
            File.WriteAllText(Path.Combine(package, "empty-object.json"), "{}");
            File.WriteAllText(Path.Combine(package, "duplicate.json"), "{\"reference\":\"a\",\"reference\":\"b\"}");

            var recipient = KeyFiles.Generate(Path.Combine(work, "recipient"), KeyKind.EC, KeyUse.Encryption, "fuzz-partner");
            File.WriteAllText(Path.Combine(keys, "recipient.private.jwk"), KeyFiles.ReadPrivateJwk(recipient.PrivateJwkPath));
            using var recipientKey = RecipientKey.FromJwks(File.ReadAllText(recipient.PublicJwksPath));
            using var broker = LocalKeyRing.OpenOrCreate(Path.Combine(work, "broker"), TimeProvider.System);
            File.WriteAllText(Path.Combine(keys, "broker.jwks.json"), broker.PublicJwks());
            var sealer = new PackageSealer(broker);
            var opener = Directory.CreateDirectory(Path.Combine(corpus, FuzzTargets.Opener)).FullName;
            foreach (var sample in samples)
            {
                var jwe = sealer.Seal(File.ReadAllBytes(sample), recipientKey);
                File.WriteAllText(Path.Combine(opener, Path.GetFileNameWithoutExtension(sample) + ".jwe"), jwe);
                File.WriteAllText(Path.Combine(keys, "sealed.jwe"), jwe);
            }
            File.WriteAllText(Path.Combine(opener, "broker.jwks.json"), broker.PublicJwks());

            using var webhookKey = WebhookSigningKey.OpenOrCreate(Path.Combine(work, "webhook"), TimeProvider.System);
            File.WriteAllText(Path.Combine(keys, "webhook.jwks.json"), webhookKey.PublicJwks());
            var webhook = Directory.CreateDirectory(Path.Combine(corpus, FuzzTargets.Webhook)).FullName;
            var timestamp = FuzzTargets.WebhookClock.ToUnixTimeSeconds();
            var bodies = new Dictionary<string, string>
            {
                ["package"] = "{\"type\":\"package.released\",\"packageId\":\"0b7e0000-0000-0000-0000-000000000001\",\"sealed\":\""
                    + File.ReadAllText(Path.Combine(keys, "sealed.jwe")) + "\"}",
                ["recall"] = "{\"type\":\"package.recalled\",\"packageId\":\"0b7e0000-0000-0000-0000-000000000001\"}",
                ["empty"] = "",
            };
            foreach (var (name, body) in bodies)
            {
                var id = "msg_" + name;
                var signature = webhookKey.Sign(id, timestamp, body);
                var signed = $"{id}\n{timestamp}\n{signature}\n{body}";
                File.WriteAllText(Path.Combine(webhook, name + ".webhook"), signed);
                if (name == "package")
                {
                    File.WriteAllText(Path.Combine(keys, "signed.webhook"), signed);
                    File.WriteAllText(Path.Combine(webhook, "two-signatures.webhook"), $"{id}\n{timestamp}\nv1a,AAAA {signature}\n{body}");
                }
            }
            File.WriteAllText(Path.Combine(webhook, "webhook.jwks.json"), webhookKey.PublicJwks());
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
