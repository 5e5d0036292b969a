"""WTForms for every form that changes something; each carries a CSRF token (Flask-WTF)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional


class RegisterForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(3, 64)])
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=300)])
    password = PasswordField("Password", validators=[DataRequired(), Length(8, 1024)])
    confirm = PasswordField("Repeat password", validators=[EqualTo("password", "the passwords differ")])


class LoginForm(FlaskForm):
    login = StringField("Username or e-mail", validators=[DataRequired(), Length(max=300)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class PostForm(FlaskForm):
    """A button that only needs its CSRF token (log out, revoke)."""


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(1, 100)])
    scopes = StringField("Scopes", validators=[DataRequired(), Length(max=1000)],
                         description="Comma-separated: publish:<slug>, publish:*, makers:<slug>")


class PublishForm(FlaskForm):
    archive = FileField("Design folder (.zip)", validators=[FileRequired("choose a zip of your design folder")],
                        description="A zip of a design folder: design.toml, model.py, README.md (+ bom.csv, images).")


class ForkForm(FlaskForm):
    slug = StringField("New slug", validators=[DataRequired(), Length(2, 64)],
                       description="Lowercase words joined by hyphens, e.g. solar-dryer-xl")
    title = StringField("Title", validators=[Optional(), Length(3, 120)])
    license = StringField("License", validators=[Optional(), Length(max=200)],
                          description="Leave empty for the parent's own license")


class MakerClaimForm(FlaskForm):
    """A maker account claiming an organisation imported from designs/makers/."""
