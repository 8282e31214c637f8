// toex-health-probe [URL]: 0 when URL (default http://127.0.0.1:8080/alive) answers 2xx within 3 s, 1 otherwise.
var url = args.Length > 0 ? args[0] : "http://127.0.0.1:8080/alive";
using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
try
{
    using var response = await http.GetAsync(new Uri(url));
    return response.IsSuccessStatusCode ? 0 : 1;
}
catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException)
{
    await Console.Error.WriteLineAsync($"{url}: {e.Message}");
    return 1;
}
