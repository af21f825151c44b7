//! Golden tests: every example of Microsoft's Functions Reference and of "Understanding
//! Declarative Provisioning Expressions" (learn.microsoft.com, Entra Connect Sync), with the
//! documented result. Where an example needs an object, the object is built here and the comment
//! says which attributes the documentation implies.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use hybridsync::engine::expr::{DateTime, EvalContext, Expr, MemoryObject, Params, Value};

fn s(v: &str) -> Value {
    Value::Str(v.into())
}

fn params() -> Params {
    Params::new()
        .with("Forest.LDAP", "DC=contoso,DC=com")
        .with("ForestLDAP", "DC=contoso,DC=com")
        .with("Domain.FQDN", "contoso.com")
        // The reference's ReplaceChars example, with its typo "ö,o" written as intended: "ö:o".
        .with("ReplaceString", "’:,Å:A,Ä:A,Ö:O,å:a,ä:a,ö:o")
}

fn now() -> DateTime {
    DateTime::from_parts(2026, 11, 22, 12, 0, 0, 0).unwrap()
}

fn eval_on(obj: &MemoryObject, expr: &str) -> Result<Value, String> {
    let e = Expr::parse(expr).map_err(|e| format!("parse: {e}"))?;
    let p = params();
    let ctx = EvalContext {
        object: obj,
        params: &p,
        now: now(),
    };
    e.evaluate(&ctx).map_err(|e| e.to_string())
}

fn eval(expr: &str) -> Value {
    eval_on(&MemoryObject::default(), expr).unwrap()
}

fn date(y: u32, mo: u32, d: u32, h: u32, mi: u32, sec: u32) -> Value {
    Value::Date(DateTime::from_parts(y, mo, d, h, mi, sec, 0).unwrap())
}

fn multi(items: &[&str]) -> Value {
    Value::Multi(items.iter().map(|i| s(i)).collect())
}

#[test]
fn math() {
    assert_eq!(eval("BitAnd(&HF, &HF7)"), Value::Num(7));
    assert_eq!(eval("BitOr(&HF, &HF0)"), Value::Num(0xFF));
    assert_eq!(eval("IsBitSet(&HF,4)"), Value::Bool(true));
    for _ in 0..50 {
        let Value::Num(n) = eval("Random(100,999)") else {
            panic!("a number")
        };
        assert!((100..=999).contains(&n));
        let Value::Num(n) = eval("RandomNum(1,1)") else {
            panic!("a number")
        };
        assert_eq!(n, 1);
    }
}

#[test]
fn conversion() {
    let same = MemoryObject::default()
        .with("attrib1", s("x"))
        .with("attrib2", s("x"));
    let differ = MemoryObject::default()
        .with("attrib1", s("x"))
        .with("attrib2", s("y"));
    assert_eq!(
        eval_on(&same, "CBool([attrib1] = [attrib2])"),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        eval_on(&differ, "CBool([attrib1] = [attrib2])"),
        Ok(Value::Bool(false))
    );
    assert_eq!(
        eval(r#"CDate("2013-01-10 4:00 PM -8")"#),
        date(2013, 1, 11, 0, 0, 0)
    );
    assert_eq!(
        eval(r#"ConvertFromBase64("SABlAGwAbABvACAAdwBvAHIAbABkACEA")"#),
        s("Hello world!")
    );
    assert_eq!(
        eval(r#"ConvertFromBase64("SGVsbG8gd29ybGQh", UTF8)"#),
        s("Hello world!")
    );
    assert_eq!(
        eval(r#"ConvertFromUTF8Hex("48656C6C6F20776F726C6421")"#),
        s("Hello world!")
    );
    assert_eq!(
        eval(r#"ConvertToBase64("Hello world!")"#),
        s("SABlAGwAbABvACAAdwBvAHIAbABkACEA")
    );
    assert_eq!(
        eval(r#"ConvertToUTF8Hex("Hello world!")"#),
        s("48656C6C6F20776F726C6421")
    );
    assert_eq!(
        eval(
            r#"CRef("CN=LC Services,CN=Microsoft,CN=lcspool01,CN=Pools,CN=RTC Service," & %Forest.LDAP%)"#
        ),
        Value::Ref(
            "CN=LC Services,CN=Microsoft,CN=lcspool01,CN=Pools,CN=RTC Service,DC=contoso,DC=com"
                .into()
        )
    );
    let joe = MemoryObject::new(Some("cn=Joe,dc=contoso,dc=com"));
    assert_eq!(
        eval_on(&joe, "CStr([dn])"),
        Ok(s("cn=Joe,dc=contoso,dc=com"))
    );
    assert_eq!(eval("CNum(\"42\")"), Value::Num(42));
    // CGuid gives AD's byte order; StringFromGuid reverses it.
    let guid = "00001111-aaaa-2222-bbbb-3333cccc4444";
    assert_eq!(
        eval(&format!("CGuid(\"{{{guid}}}\")")),
        Value::Bin(vec![
            0x11, 0x11, 0, 0, 0xaa, 0xaa, 0x22, 0x22, 0xbb, 0xbb, 0x33, 0x33, 0xcc, 0xcc, 0x44,
            0x44
        ])
    );
    assert_eq!(eval(&format!("StringFromGuid(CGuid(\"{guid}\"))")), s(guid));
    let sid = MemoryObject::default().with(
        "objectSid",
        Value::Bin(vec![1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 32, 2, 0, 0]),
    );
    assert_eq!(
        eval_on(&sid, "StringFromSid([objectSid])"),
        Ok(s("S-1-5-32-544"))
    );
    // Binary values base64-encode their bytes: the 24-character immutable ID.
    let g = MemoryObject::default().with(
        "objectGUID",
        Value::Bin(vec![
            0xd4, 0xc3, 0xb2, 0xa1, 0xf6, 0xe5, 0x18, 0x07, 0x29, 0x3a, 0x4b, 0x5c, 0x6d, 0x7e,
            0x8f, 0x90,
        ]),
    );
    assert_eq!(
        eval_on(&g, "ConvertToBase64([objectGUID])"),
        Ok(s("1MOyofblGAcpOktcbX6PkA=="))
    );
}

#[test]
fn dates() {
    assert_eq!(
        eval(r#"DateAdd("m", 3, CDate("2001-01-01"))"#),
        date(2001, 4, 1, 0, 0, 0)
    );
    assert_eq!(
        eval("DateFromNum(129699324000000000)"),
        date(2012, 1, 1, 23, 0, 0)
    );
    assert_eq!(
        eval(r#"NumFromDate(CDate("2012-01-01 23:00:00"))"#),
        Value::Num(129_699_324_000_000_000)
    );
    assert_eq!(
        eval(r#"FormatDateTime(CDate("12/25/2007"),"yyyy-MM-dd")"#),
        s("2007-12-25")
    );
    let u = MemoryObject::default().with("pwdLastSet", Value::Num(130_543_784_930_000_000));
    assert_eq!(
        eval_on(
            &u,
            r#"FormatDateTime(DateFromNum([pwdLastSet]),"yyyyMMddHHmmss.0Z")"#
        ),
        Ok(s("20140905081453.0Z"))
    );
    assert_eq!(eval("Now()"), Value::Date(now()));
}

#[test]
fn directory() {
    let joe = MemoryObject::new(Some("cn=Joe,ou=Atlanta,ou=GA,ou=US, dc=contoso,dc=com"));
    assert_eq!(eval_on(&joe, "DNComponent(CRef([dn]),1)"), Ok(s("Joe")));
    assert_eq!(eval_on(&joe, "DNComponentRev(CRef([dn]),3)"), Ok(s("US")));
    assert_eq!(
        eval_on(&joe, r#"DNComponentRev(CRef([dn]),1,"DC")"#),
        Ok(s("US"))
    );
    let o = MemoryObject::default().with("displayName", s("Smith, John"));
    assert_eq!(
        eval_on(
            &o,
            r#"EscapeDNComponent("cn=" & [displayName]) & "," & %ForestLDAP%"#
        ),
        Ok(s(r"cn=Smith\, John,DC=contoso,DC=com"))
    );
    // Replication-conflict objects, as the default cloudFiltered rule finds them.
    let cnf = MemoryObject::new(Some(
        r"CN=John\0ACNF:4c5d6e7f-0000-1111-2222-333344445555,OU=Staff,DC=contoso,DC=com",
    ));
    assert_eq!(
        eval_on(
            &cnf,
            r#"CBool(InStr(DNComponent(CRef([dn]),1),"\\0ACNF:")>0)"#
        ),
        Ok(Value::Bool(true))
    );
}

#[test]
fn evaluation() {
    let guid =
        MemoryObject::default().with("strAttribute", s("{00001111-aaaa-2222-bbbb-3333cccc4444}"));
    assert!(
        matches!(eval_on(&guid, "IIF(IsGuid([strAttribute]),CGuid([strAttribute]),NULL)"), Ok(Value::Bin(b)) if b.len() == 16)
    );
    let text = MemoryObject::default().with("strAttribute", s("not a guid"));
    assert_eq!(
        eval_on(
            &text,
            "IIF(IsGuid([strAttribute]),CGuid([strAttribute]),NULL)"
        ),
        Ok(Value::Null)
    );
    let empty = MemoryObject::default();
    let blank = MemoryObject::default().with("displayName", s(""));
    assert_eq!(
        eval_on(&empty, "IsNull([displayName])"),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        eval_on(&blank, "IsNull([displayName])"),
        Ok(Value::Bool(false))
    );
    assert_eq!(
        eval_on(&empty, "IsNullOrEmpty([displayName])"),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        eval_on(&blank, "IsNullOrEmpty([displayName])"),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        eval_on(&blank, "IsEmpty([displayName])"),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        eval_on(&blank, "IsPresent([displayName])"),
        Ok(Value::Bool(false))
    );
    assert_eq!(eval("IsNumeric(\"12\")"), Value::Bool(true));
    assert_eq!(eval("IsNumeric(\"1x\")"), Value::Bool(false));
    assert_eq!(eval("IsDate(\"2001-01-01\")"), Value::Bool(true));
    assert_eq!(eval("IsString(12)"), Value::Bool(true));
    let managers = MemoryObject::default()
        .with("skiplevelManager", s("Ann"))
        .with("director", s("Bob"));
    assert_eq!(
        eval_on(
            &managers,
            "Switch(IsPresent([directManager]),[directManager], IsPresent([skiplevelManager]),[skiplevelManager], IsPresent([director]),[director])"
        ),
        Ok(s("Ann"))
    );
}

fn proxies() -> MemoryObject {
    MemoryObject::default()
        .with("proxyAddresses", s("SMTP:john.doe@contoso.com"))
        .with("proxyAddresses", s("smtp:jd@contoso.com"))
}

#[test]
fn multi_valued() {
    let p = proxies();
    assert_eq!(
        eval_on(
            &p,
            r#"IIF(Contains([proxyAddresses],"SMTP:")>0,[proxyAddresses],Error("No primary SMTP address found."))"#
        ),
        Ok(multi(&["SMTP:john.doe@contoso.com", "smtp:jd@contoso.com"]))
    );
    let secondary_only = MemoryObject::default().with("proxyAddresses", s("smtp:jd@contoso.com"));
    assert_eq!(
        eval_on(
            &secondary_only,
            r#"IIF(Contains([proxyAddresses],"SMTP:")>0,[proxyAddresses],Error("No primary SMTP address found."))"#
        ),
        Err("column 59: No primary SMTP address found.".into())
    );
    assert_eq!(
        eval_on(
            &p,
            r#"Mid(Item([proxyAddresses],Contains([proxyAddresses], "SMTP:")),6)"#
        ),
        Ok(s("john.doe@contoso.com"))
    );
    assert_eq!(
        eval_on(&p, r#"Join([proxyAddresses],",")"#),
        Ok(s("SMTP:john.doe@contoso.com,smtp:jd@contoso.com"))
    );
    assert_eq!(eval_on(&p, "Count([proxyAddresses])"), Ok(Value::Num(2)));
    assert_eq!(
        eval_on(&p, "ItemOrNull([proxyAddresses],3)"),
        Ok(Value::Null)
    );
    assert!(
        eval_on(&p, "Item([proxyAddresses],3)")
            .unwrap_err()
            .contains("index 3 is outside the attribute's 2 values")
    );
    let dup = proxies().with("proxyAddresses", s("SMTP:john.doe@contoso.com"));
    assert_eq!(
        eval_on(&dup, "RemoveDuplicates([proxyAddresses])"),
        Ok(multi(&["SMTP:john.doe@contoso.com", "smtp:jd@contoso.com"]))
    );
    assert_eq!(
        eval(r#"Split("SMTP:john.doe@contoso.com,smtp:jd@contoso.com",",")"#),
        multi(&["SMTP:john.doe@contoso.com", "smtp:jd@contoso.com"])
    );
    assert_eq!(eval(r#"Split("a,b,c",",",2)"#), multi(&["a", "b,c"]));
}

#[test]
fn program_flow() {
    let intern = MemoryObject::default()
        .with("employeeType", s("Intern"))
        .with("alias", s("jdoe"));
    let staff = MemoryObject::default()
        .with("employeeType", s("Employee"))
        .with("alias", s("jdoe"));
    let e = r#"IIF([employeeType]="Intern","t-" & [alias],[alias])"#;
    assert_eq!(eval_on(&intern, e), Ok(s("t-jdoe")));
    assert_eq!(eval_on(&staff, e), Ok(s("jdoe")));
    let e = r#"IIF(IsPresent([accountName]),[accountName],Error("AccountName is required"))"#;
    assert_eq!(
        eval_on(&MemoryObject::default().with("accountName", s("jdoe")), e),
        Ok(s("jdoe"))
    );
    assert_eq!(
        eval_on(&MemoryObject::default(), e),
        Err("column 44: AccountName is required".into())
    );
    let city = |c: &str| MemoryObject::default().with("city", s(c));
    let e = r#"Switch([city] = "London", "English", [city] = "Rome", "Italian", [city] = "Paris", "French", True, Error("Unknown city"))"#;
    assert_eq!(eval_on(&city("Rome"), e), Ok(s("Italian")));
    // Switch evaluates every condition but only the chosen value: Error() is only raised when chosen.
    assert_eq!(
        eval_on(&city("Oslo"), e),
        Err("column 100: Unknown city".into())
    );
    let phones = MemoryObject::default()
        .with("otherPhone", s("555-0100"))
        .with("otherPhone", s("555-0199"));
    assert_eq!(
        eval_on(
            &phones,
            r#"Select($item,[otherPhone],Replace($item,"-",""))"#
        ),
        Ok(multi(&["5550100", "5550199"]))
    );
    assert_eq!(
        eval_on(&phones, r#"Where($item,[otherPhone],Right($item,2)="99")"#),
        Ok(s("555-0199"))
    );
    assert_eq!(
        eval_on(
            &phones,
            r#"With($p,Where($item,[otherPhone],Right($item,2)="99"),IIF(Count($p)>0,$p,NULL))"#
        ),
        Ok(s("555-0199"))
    );
    // IgnoreThisFlow (declarative provisioning page).
    let e = "IIF([cloudSOAExchMailbox] = True,[cloudMSExchSafeSendersHash],IgnoreThisFlow)";
    let cloud = MemoryObject::default()
        .with("cloudSOAExchMailbox", Value::Bool(true))
        .with("cloudMSExchSafeSendersHash", Value::Bin(vec![1, 2]));
    assert_eq!(eval_on(&cloud, e), Ok(Value::Bin(vec![1, 2])));
    assert_eq!(
        eval_on(
            &MemoryObject::default().with("cloudSOAExchMailbox", Value::Bool(false)),
            e
        ),
        Ok(Value::IgnoreThisFlow)
    );
    assert_eq!(eval("AuthoritativeNull"), Value::AuthoritativeNull);
    assert_eq!(eval(r#"Coalesce(NULL, "", "x", "y")"#), s("x"));
}

#[test]
fn text() {
    assert_eq!(
        eval(r#"InStr("The quick brown fox","quick")"#),
        Value::Num(5)
    );
    assert_eq!(
        eval(r#"InStr("repEated","e",3,vbBinaryCompare)"#),
        Value::Num(7)
    );
    assert_eq!(
        eval(r#"InStr("repEated","e",3,vbTextCompare)"#),
        Value::Num(4)
    );
    assert_eq!(eval(r#"InStrRev("abbcdbbbef","bb")"#), Value::Num(7));
    assert_eq!(eval(r#"LCase("TeSt")"#), s("test"));
    assert_eq!(eval(r#"Left("John Doe", 3)"#), s("Joh"));
    assert_eq!(eval(r#"Left("John Doe", 0)"#), s(""));
    assert_eq!(eval(r#"Left("John Doe", -1)"#), s("John Doe"));
    assert_eq!(eval(r#"Left([missing], 3)"#), s(""));
    assert_eq!(eval(r#"Len("John Doe")"#), Value::Num(8));
    assert_eq!(eval(r#"LTrim(" Test ")"#), s("Test "));
    assert_eq!(eval(r#"Mid("John Doe", 3, 5)"#), s("hn Do"));
    assert_eq!(eval(r#"Mid("John Doe", 6, 999)"#), s("Doe"));
    assert_eq!(eval(r#"Mid("John Doe", 0, 3)"#), s("John Doe"));
    assert_eq!(eval(r#"Mid("John Doe", 99, 3)"#), s("John Doe"));
    assert_eq!(eval(r#"PadLeft("User", 10, "0")"#), s("000000User"));
    assert_eq!(eval(r#"PadRight("User", 10, "0")"#), s("User000000"));
    assert_eq!(eval(r#"PCase("TEsT")"#), s("Test"));
    assert_eq!(eval(r#"PCase(LCase("TEST"))"#), s("Test"));
    let addr =
        MemoryObject::default().with("address", s("One Microsoft Way\r\nRedmond\r\nWA\r\nUSA"));
    assert_eq!(
        eval_on(&addr, r#"Replace([address],"\r\n",", ")"#),
        Ok(s("One Microsoft Way, Redmond, WA, USA"))
    );
    assert_eq!(
        eval(r#"ReplaceChars("Räksmörgås",%ReplaceString%)"#),
        s("Raksmorgas")
    );
    assert_eq!(
        eval(r#"ReplaceChars("O’Neil",%ReplaceString%)"#),
        s("ONeil")
    );
    assert_eq!(eval(r#"Right("John Doe", 3)"#), s("Doe"));
    assert_eq!(eval(r#"RTrim(" Test ")"#), s(" Test"));
    assert_eq!(eval(r#"Trim(" Test ")"#), s("Test"));
    assert_eq!(eval(r#"UCase("TeSt")"#), s("TEST"));
    assert_eq!(eval(r#"Word("The quick brown fox",3," ")"#), s("brown"));
    assert_eq!(
        eval(r##"Word("This,string!has&many separators",3,",!&#")"##),
        s("has")
    );
    let Value::Str(g) = eval("GUID()") else {
        panic!("text")
    };
    assert!(g.parse::<hybridsync::domain::ObjectGuid>().is_ok());
}

#[test]
fn declarative_provisioning_page() {
    let p = MemoryObject::default()
        .with("proxyAddresses", s(" SMTP:john@fabrikam.com "))
        .with("proxyAddresses", s("SIP:john@fabrikam.com"))
        .with("proxyAddresses", s("smtp:jd@fabrikam.com"));
    assert_eq!(
        eval_on(&p, "Trim([proxyAddresses])"),
        Ok(multi(&[
            "SMTP:john@fabrikam.com",
            "SIP:john@fabrikam.com",
            "smtp:jd@fabrikam.com"
        ]))
    );
    let clean = MemoryObject::default()
        .with("proxyAddresses", s("SMTP:john@fabrikam.com"))
        .with("proxyAddresses", s("smtp:jd@fabrikam.com"));
    assert_eq!(
        eval_on(&clean, r#"Word([proxyAddresses],1,"@") & "@contoso.com""#),
        Ok(multi(&["SMTP:john@contoso.com", "smtp:jd@contoso.com"]))
    );
    assert_eq!(
        eval_on(
            &p,
            r#"IIF(InStr([proxyAddresses],"SIP:")=1,NULL,[proxyAddresses])"#
        ),
        Ok(multi(&[" SMTP:john@fabrikam.com ", "smtp:jd@fabrikam.com"]))
    );
    assert_eq!(
        eval_on(
            &p,
            r#"RemoveDuplicates(Trim(ImportedValue("proxyAddresses")))"#
        ),
        Ok(multi(&[
            "SMTP:john@fabrikam.com",
            "SIP:john@fabrikam.com",
            "smtp:jd@fabrikam.com"
        ]))
    );
    let g = MemoryObject::default()
        .with("member", Value::Ref("CN=a".into()))
        .with("member", Value::Ref("CN=b".into()));
    assert_eq!(eval_on(&g, r#"ValueCount("member")"#), Ok(Value::Num(2)));
    // Operators: one priority, left to right ("the * is not evaluated before -").
    assert_eq!(eval("3+2*5"), Value::Num(25));
    assert_eq!(eval("2*(5+3)"), Value::Num(16));
    assert_eq!(eval("2*5+3"), Value::Num(13));
    assert_eq!(eval("10-2*3"), Value::Num(24));
    // Comparisons bind tighter than && and ||, which is what Microsoft's default rules need ...
    assert_eq!(eval("IsPresent([x]) = False || 1 = 2"), Value::Bool(true));
    // ... and && binds tighter than || (our documented choice).
    assert_eq!(eval("True || False && False"), Value::Bool(true));
    assert_eq!(eval("(True || False) && False"), Value::Bool(false));
    assert_eq!(eval("!True || True"), Value::Bool(true));
    assert_eq!(eval("-2147483648"), Value::Num(-2_147_483_648));
    assert_eq!(eval("CRLF"), s("\r\n"));
    assert_eq!(eval(r#""a" & NULL"#), s("a"));
    assert_eq!(eval("NULL & NULL"), Value::Null);
}

fn cert(name: &str) -> Value {
    Value::Bin(
        std::fs::read(format!(
            "{}/tests/fixtures/certs/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
}

#[test]
fn certificates() {
    // Two certificates: rsa.der is valid until 2036, ec.der until 2126. At 2040 only ec.der is
    // unexpired.
    let obj = MemoryObject::default()
        .with("userCertificate", cert("rsa.der"))
        .with("userCertificate", cert("ec.der"));
    let p = params();
    let at = |y| DateTime::from_parts(y, 1, 1, 0, 0, 0, 0).unwrap();
    let run = |text: &str, year| {
        let ctx = EvalContext {
            object: &obj,
            params: &p,
            now: at(year),
        };
        Expr::parse(text).unwrap().evaluate(&ctx).unwrap()
    };
    let unexpired = "Where($item,[userCertificate],CertNotAfter($item)>Now())";
    assert_eq!(run(unexpired, 2040), cert("ec.der"));
    assert_eq!(
        run(unexpired, 2030),
        Value::Multi(vec![cert("rsa.der"), cert("ec.der")])
    );
    let with = "With($unExpiredCerts,Where($item,[userCertificate],CertNotAfter($item)>Now()),IIF(Count($unExpiredCerts)>0,$unExpiredCerts,NULL))";
    let equivalent = "IIF (Count(Where($item,[userCertificate],CertNotAfter($item)>Now()))>0, Where($item,[userCertificate],CertNotAfter($item)>Now()),NULL)";
    for year in [2030, 2040, 2200] {
        assert_eq!(run(with, year), run(equivalent, year), "{year}");
    }
    assert_eq!(run(with, 2200), Value::Null);
    let one = MemoryObject::default().with("userCertificate", cert("ec.der"));
    assert_eq!(
        eval_on(&one, "IsCert([userCertificate])"),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        eval_on(&one, "CertFormat([userCertificate])"),
        Ok(s("X509"))
    );
    assert_eq!(eval_on(&one, "CertVersion([userCertificate])"), Ok(s("3")));
    // Checked against `openssl x509 -noout -fingerprint -sha1` of the fixture.
    assert_eq!(
        eval_on(&one, "CertThumbprint([userCertificate])"),
        Ok(s("FC2D0AC59DDFBB304CBBE682C735FD2D04A76D05"))
    );
    assert_eq!(
        eval_on(
            &MemoryObject::default().with("userCertificate", Value::Bin(vec![1, 2, 3])),
            "IsCert([userCertificate])"
        ),
        Ok(Value::Bool(false))
    );
}
