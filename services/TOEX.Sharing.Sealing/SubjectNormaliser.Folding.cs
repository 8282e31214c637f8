namespace TOEX.Sharing.Sealing;

public static partial class SubjectNormaliser
{
    /// <summary>
    /// Lower-case letters with diacritics (Latin-1 Supplement, Latin Extended-A and -B, Latin Extended Additional),
    /// full-width letters and digits, and the letters that do not decompose, each followed by what it is written as.
    /// The services run with invariant globalisation (no ICU), so Unicode decomposition is not available at run
    /// time: this table is Unicode's NFKD of each letter without its combining marks, generated once.
    /// </summary>
    private const string FoldingTable =
        "ßss|àa|áa|âa|ãa|äa|åa|æae|çc|èe|ée|êe|ëe|ìi|íi|îi|ïi|ðd|ñn|òo|óo|ôo|õo|öo|øo|ùu|úu|ûu|üu|ýy|þth|ÿy|" +
        "āa|ăa|ąa|ćc|ĉc|ċc|čc|ďd|đd|ēe|ĕe|ėe|ęe|ěe|ĝg|ğg|ġg|ģg|ĥh|ħh|ĩi|īi|ĭi|įi|ıi|ĳij|ĵj|ķk|ĸk|ĺl|ļl|ľl|łl|" +
        "ńn|ņn|ňn|ŋn|ōo|ŏo|őo|œoe|ŕr|ŗr|řr|śs|ŝs|şs|šs|ţt|ťt|ŧt|ũu|ūu|ŭu|ůu|űu|ųu|ŵw|ŷy|źz|żz|žz|ſs|ơo|ưu|" +
        "ǆdz|ǉlj|ǌnj|ǎa|ǐi|ǒo|ǔu|ǖu|ǘu|ǚu|ǜu|ǟa|ǡa|ǧg|ǩk|ǫo|ǭo|ǰj|ǳdz|ǵg|ǹn|ǻa|ȁa|ȃa|ȅe|ȇe|ȉi|ȋi|ȍo|ȏo|ȑr|ȓr|" +
        "ȕu|ȗu|șs|țt|ȟh|ȧa|ȩe|ȫo|ȭo|ȯo|ȱo|ȳy|ḁa|ḃb|ḅb|ḇb|ḉc|ḋd|ḍd|ḏd|ḑd|ḓd|ḕe|ḗe|ḙe|ḛe|ḝe|ḟf|ḡg|ḣh|ḥh|ḧh|ḩh|" +
        "ḫh|ḭi|ḯi|ḱk|ḳk|ḵk|ḷl|ḹl|ḻl|ḽl|ḿm|ṁm|ṃm|ṅn|ṇn|ṉn|ṋn|ṍo|ṏo|ṑo|ṓo|ṕp|ṗp|ṙr|ṛr|ṝr|ṟr|ṡs|ṣs|ṥs|ṧs|ṩs|ṫt|" +
        "ṭt|ṯt|ṱt|ṳu|ṵu|ṷu|ṹu|ṻu|ṽv|ṿv|ẁw|ẃw|ẅw|ẇw|ẉw|ẋx|ẍx|ẏy|ẑz|ẓz|ẕz|ẖh|ẗt|ẘw|ẙy|ẛs|ạa|ảa|ấa|ầa|ẩa|ẫa|ậa|" +
        "ắa|ằa|ẳa|ẵa|ặa|ẹe|ẻe|ẽe|ếe|ềe|ểe|ễe|ệe|ỉi|ịi|ọo|ỏo|ốo|ồo|ổo|ỗo|ộo|ớo|ờo|ởo|ỡo|ợo|ụu|ủu|ứu|ừu|ửu|ữu|" +
        "ựu|ỳy|ỵy|ỷy|ỹy|０0|１1|２2|３3|４4|５5|６6|７7|８8|９9|ａa|ｂb|ｃc|ｄd|ｅe|ｆf|ｇg|ｈh|ｉi|ｊj|ｋk|ｌl|ｍm|ｎn|ｏo|ｐp|ｑq|ｒr|" +
        "ｓs|ｔt|ｕu|ｖv|ｗw|ｘx|ｙy|ｚz|";
}
